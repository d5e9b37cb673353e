"""idp_site.sessions: Django's db/cached_db engines with two statements fewer per key rotation."""

from __future__ import annotations

import pytest
from django.contrib.sessions.models import Session
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext

from idp_site.sessions import cached_db, db

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("engine", [db, cached_db])
def test_rotation_keeps_the_data_drops_the_old_row_and_costs_two_statements(engine):
    store = engine.SessionStore()
    store["who"] = "alice"
    store.create()
    old = store.session_key
    with CaptureQueriesContext(connection) as queries:
        store.cycle_key()
    sql = [q["sql"] for q in queries if "SAVEPOINT" not in q["sql"]]
    assert len(sql) == 2 and sql[0].startswith("INSERT") and sql[1].startswith("DELETE"), sql
    assert store.session_key != old and len(store.session_key) == 32
    assert not Session.objects.filter(session_key=old).exists()
    assert engine.SessionStore(store.session_key)["who"] == "alice"
    assert engine.SessionStore(old).load() == {}


def test_a_key_clash_draws_another_key(monkeypatch):
    taken = db.SessionStore()
    taken["who"] = "bob"
    taken.create()
    keys = iter([taken.session_key, "z" * 32])
    monkeypatch.setattr(db.SessionStore, "_get_new_session_key", lambda self: next(keys))
    store = db.SessionStore()
    store["who"] = "carol"
    store.create()
    assert store.session_key == "z" * 32
    assert db.SessionStore(taken.session_key)["who"] == "bob"  # the existing session is untouched


@override_settings(SESSION_ENGINE="idp_site.sessions.cached_db")
def test_cached_db_forgets_the_deleted_session_in_the_cache_too():
    store = cached_db.SessionStore()
    store["who"] = "dave"
    store.create()
    key = store.session_key
    assert cached_db.SessionStore(key)["who"] == "dave"  # now cached
    store.delete()
    assert cached_db.SessionStore(key).load() == {}


@pytest.mark.parametrize("engine", [db, cached_db])
def test_a_save_repeating_this_requests_write_is_skipped_a_change_is_not(engine):
    store = engine.SessionStore()
    store["who"] = "erin"
    store.cycle_key()  # the INSERT of a rotation
    with CaptureQueriesContext(connection) as queries:
        store.save()  # Django's end-of-request save of the same data
    assert [q for q in queries if "SAVEPOINT" not in q["sql"]] == []
    store["who"] = "frank"
    with CaptureQueriesContext(connection) as queries:
        store.save()
    assert any(q["sql"].startswith("UPDATE") for q in queries)
    assert engine.SessionStore(store.session_key)["who"] == "frank"
