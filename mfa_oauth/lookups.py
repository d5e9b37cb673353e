"""The row a lookup by a unique column finds, without the ``ORDER BY`` that ``first()`` adds.

``QuerySet.first()`` on an unordered queryset orders by the primary key, and compiling that ordering
is about a third of the CPU of a one-row SELECT in Django's ORM. A lookup by a unique column (a
client_id, a code, a checksum, a primary key, a one-to-one user) has at most one row, so the order is
moot: ``LIMIT 1`` alone gives the same answer. The flows run about ten such lookups per login.

:class:`CompiledLookup` goes further for the reads that run in nearly every request (the client, the
session row, the session's user): the same statement with another value each time, so it is compiled
once per process and only the value changes (see the comment above it).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.db.transaction import TransactionManagementError


def unique_or_none(queryset: QuerySet) -> Any | None:
    """The one row (model instance, or values tuple for ``values_list``) of ``queryset``, or None.

    Only for a queryset filtered on a unique column (or a primary key): with several rows the one
    returned would be arbitrary."""
    for row in queryset[:1]:
        return row
    return None


# --- a one-row lookup whose SQL is compiled once ------------------------------------------------------
#
# Building and compiling a queryset is most of the CPU of a one-row SELECT in Django's ORM: for the
# client read with its two joined rows (mfa_oauth.clients) 340 of 550 microseconds, the database
# itself 60. The flows read a client that way five times per login, each time to the same SQL with a
# different client_id. ``CompiledLookup`` compiles the queryset once per database alias (and per
# ``key``: whatever else changes its shape, such as which relations are joined), keeps the SQL with
# the positions of the looked-up values, and for each lookup sends that SQL with the new values through
# the connection's cursor (so execute wrappers, query logging and test query counts see it as any
# query) and builds the instances as Django's ModelIterable does: ``Model.from_db`` for the row, the
# compiler's related populators for the select_related rows, the field converters for each value.
# It caches only the statement text, never a row: every lookup is a query, as before.


_MARKER = "\x00mfa_oauth.lookups marker\x00"  # a text value no lookup is ever made with
TEXT_MARKER = _MARKER
INTEGER_MARKER = -2_000_000_017  # an integer key no row has, within a 32-bit column's range (not elided)


@dataclass(frozen=True, slots=True)
class _Compiled:
    sql: str
    params: tuple
    places: tuple  # for each looked-up value, the positions in params where it goes
    locks_rows: bool  # select_for_update: only inside a transaction, as the ORM demands
    model: Any
    from_db: Any  # the model's from_db, with the queryset's fetch mode bound on Django 6.1+
    init_list: list[str]
    start: int  # the model's columns in the row: [start:end]
    end: int
    populators: list  # django.db.models.query.RelatedPopulator, one per select_related relation
    converters: list  # (position, (converters, expression)) from the compiler
    annotations: tuple  # (attribute, position) of each selected annotation


class CompiledLookup:
    """``get(*values)``: the one row of ``build(key, *values)`` (a queryset of model instances filtered
    on a unique column), or None; the same as ``unique_or_none(build(key, *values))`` with the SQL
    compiled once per (database alias, ``key``).

    ``build`` must put each value in the query as it is (text) or as ``prepare`` makes it (``int`` for
    an integer column), never combined with anything; a queryset the fast path cannot reproduce exactly
    (a value not found among the parameters, extra selects, composite fields, ``only``/``defer``,
    prefetching) is looked up through the ORM on every call instead."""

    def __init__(self, build: Any, *, markers: tuple = (_MARKER,), prepare: tuple | None = None) -> None:
        # markers: the values the statement is compiled with, one per looked-up value, which no lookup
        # is made with (an int inside the column's range for an integer column); prepare: for each
        # value, what the ORM's field does to it before it becomes a parameter (int for an integer
        # column), None for text.
        self._build = build
        self._markers = markers
        self._prepare = prepare or (None,) * len(markers)
        self._compiled: dict[tuple, _Compiled | None] = {}
        self._models: dict[Any, Any] = {}

    def get(self, *values: Any, key: Any = None) -> Any | None:
        alias = self._alias(key)
        if (alias, key) in self._compiled:
            compiled = self._compiled[(alias, key)]
        else:
            try:
                compiled = _compile(self._build(key, *self._markers), alias, self._markers)
            except (TypeError, ValueError, ValidationError):
                compiled = None  # a marker the column does not take: the ORM answers every lookup
            self._compiled[(alias, key)] = compiled
        if compiled is None:
            return unique_or_none(self._build(key, *values))
        try:
            prepared = [value if prepare is None else prepare(value) for value, prepare in zip(values, self._prepare)]
        except (TypeError, ValueError):
            return unique_or_none(self._build(key, *values))  # the ORM's own error for such a value
        return _run(compiled, alias, prepared)

    def _alias(self, key: Any) -> str:
        from django.db import router

        if key not in self._models:
            queryset = self._build(key, *self._markers)
            # A queryset for writing (select_for_update) reads from the database it would write to,
            # as QuerySet.db routes it; the router is asked on every lookup, as the ORM asks it.
            self._models[key] = (queryset.model, queryset._for_write)
        model, for_write = self._models[key]
        return (router.db_for_write(model) if for_write else router.db_for_read(model)) or "default"


def _is(param: Any, marker: Any) -> bool:
    return type(param) is type(marker) and param == marker


def _compile(queryset: Any, alias: str, markers: tuple) -> _Compiled | None:
    # ModelIterable's own steps (django.db.models.query), so the instances are the ones it would build.
    from django.db.models.query import ModelIterable

    queryset = queryset.using(alias)[:1]
    if (
        queryset._iterable_class is not ModelIterable
        or queryset._prefetch_related_lookups
        or queryset._known_related_objects
        or queryset.query.deferred_loading != (frozenset(), True)
        or queryset.query.extra
    ):
        return None
    fetch_mode = getattr(queryset, "_fetch_mode", None)  # Django 6.1+: how deferred fields load
    if fetch_mode is not None and fetch_mode.track_peers:
        # FETCH_PEERS links the instances one query built (their related populators keep the list);
        # populators kept for the process would link rows of unrelated lookups.
        return None
    compiler = queryset.query.get_compiler(using=alias)
    sql, params = compiler.as_sql()
    places = tuple(tuple(i for i, p in enumerate(params) if _is(p, marker)) for marker in markers)
    if compiler.has_extra_select or not all(places):
        return None
    fields = [s[0] for s in compiler.select[0 : compiler.col_count]]
    if compiler.has_composite_fields(fields):
        return None
    klass_info = compiler.klass_info
    select_fields = klass_info["select_fields"]
    start, end = select_fields[0], select_fields[-1] + 1
    from_db, populators = _model_builders(klass_info, compiler.select, alias, fetch_mode)
    return _Compiled(
        sql=sql,
        params=tuple(params),
        places=places,
        locks_rows=bool(queryset.query.select_for_update),
        model=klass_info["model"],
        from_db=from_db,
        init_list=[f[0].target.attname for f in compiler.select[start:end]],
        start=start,
        end=end,
        populators=populators,
        converters=list(compiler.get_converters(fields).items()),
        annotations=tuple((compiler.annotation_col_map or {}).items()),
    )


def _model_builders(klass_info: dict, select: list, alias: str, fetch_mode: Any) -> tuple[Any, list]:
    """The row's ``from_db`` and the select_related populators, as ModelIterable makes them: on Django
    6.1+ both take the queryset's fetch mode (``from_db`` through ``_get_from_db``, which also accepts
    a project's from_db override without the argument); before it, neither does."""
    from django.db.models import query

    if fetch_mode is None:
        return klass_info["model"].from_db, query.get_related_populators(klass_info, select, alias)  # type: ignore[attr-defined]
    return (
        query._get_from_db(klass_info["model"], fetch_mode),  # type: ignore[attr-defined]
        query.get_related_populators(klass_info, select, alias, fetch_mode),  # type: ignore[attr-defined]
    )


def _run(compiled: _Compiled, alias: str, values: list) -> Any | None:
    from django.db import connections

    params = list(compiled.params)
    for value, places in zip(values, compiled.places):
        for place in places:
            params[place] = value
    connection = connections[alias]
    features = connection.features
    if compiled.locks_rows and features.has_select_for_update and features.supports_transactions:
        if connection.get_autocommit():
            # The compiler's own refusal, which a statement compiled once no longer reaches: outside a
            # transaction the row lock would end with the statement.
            raise TransactionManagementError("select_for_update cannot be used outside of a transaction.")
    with connection.cursor() as cursor:
        cursor.execute(compiled.sql, params)
        fetched = cursor.fetchone()
    if fetched is None:
        return None
    row = list(fetched)
    for position, (converters, expression) in compiled.converters:
        converted = row[position]
        for converter in converters:
            converted = converter(converted, expression, connection)
        row[position] = converted
    instance = compiled.from_db(alias, compiled.init_list, row[compiled.start : compiled.end])
    for populator in compiled.populators:
        populator.populate(row, instance)
    for attribute, position in compiled.annotations:
        setattr(instance, attribute, row[position])
    return instance
