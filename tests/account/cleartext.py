"""Where a secret could be left in clear: every table, every session (decoded), the cache, the logs."""

from __future__ import annotations

import logging
import pickle

from django.contrib.sessions.models import Session
from django.core.cache import caches
from django.db import connection


def variants(code: str) -> set[str]:
    """A backup code as shown (dashes), as typed without them, and its secret part alone."""
    raw = code.replace("-", "")
    return {code, raw, raw[4:]}


def _rows() -> list[tuple[str, str]]:
    found = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names():
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")
            found += [(table, " ".join(str(value) for value in row)) for row in cursor.fetchall()]
    return found


def _sessions() -> list[tuple[str, str]]:
    return [(f"session {s.session_key}", repr(s.get_decoded())) for s in Session.objects.all()]


def _cache() -> list[tuple[str, str]]:
    found = []
    for alias in caches:
        store = getattr(caches[alias], "_cache", None)  # LocMemCache: key -> pickled value
        if isinstance(store, dict):
            found += [(f"cache {key}", repr(pickle.loads(value))) for key, value in store.items()]
    return found


def places_holding(codes: list[str], records: list[logging.LogRecord] = ()) -> list[str]:
    """The places (table, session, cache key, log record) where any form of any code appears."""
    needles = set().union(*(variants(c) for c in codes))
    texts = _rows() + _sessions() + _cache() + [(f"log {r.name}", r.getMessage()) for r in records]
    return sorted({place for place, text in texts if any(n in text for n in needles)})
