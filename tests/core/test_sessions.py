"""idp_site.sessions: Django's db/cached_db engines with a one-statement key rotation."""

from __future__ import annotations

import pytest
from django.contrib.sessions.models import Session
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext

from idp_site.sessions import cached_db, db

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("engine", [db, cached_db])
def test_rotation_moves_the_row_to_the_new_key_with_one_statement_at_save(engine):
    store = engine.SessionStore()
    store["who"] = "alice"
    store.create()
    old = store.session_key
    with CaptureQueriesContext(connection) as queries:
        store.cycle_key()
        store["level"] = "mfa"  # what the request writes after rotating, saved with the move
        store.save()
    sql = [q["sql"] for q in queries if "SAVEPOINT" not in q["sql"]]
    assert len(sql) == 1 and sql[0].startswith("UPDATE"), sql
    assert store.session_key != old and len(store.session_key) == 32
    assert not Session.objects.filter(session_key=old).exists()
    assert dict(engine.SessionStore(store.session_key).load()) == {"who": "alice", "level": "mfa"}
    assert engine.SessionStore(old).load() == {}


@pytest.mark.parametrize("engine", [db, cached_db])
def test_first_login_rotation_of_an_unstored_session_is_one_insert(engine):
    store = engine.SessionStore()
    store["next"] = "/o/authorize/"
    with CaptureQueriesContext(connection) as queries:
        store.cycle_key()
        store["_auth_user_id"] = "1"
        store.save()
    sql = [q["sql"] for q in queries if "SAVEPOINT" not in q["sql"]]
    assert len(sql) == 1 and sql[0].startswith("INSERT"), sql
    assert engine.SessionStore(store.session_key)["_auth_user_id"] == "1"


@pytest.mark.parametrize("engine", [db, cached_db])
def test_the_old_key_keeps_working_only_until_the_save(engine):
    store = engine.SessionStore()
    store["who"] = "gina"
    store.create()
    old = store.session_key
    store.cycle_key()
    new = store.session_key
    assert engine.SessionStore(old)["who"] == "gina"  # a request that fails before its save changes nothing
    store.save()
    assert engine.SessionStore(old).load() == {}
    assert engine.SessionStore(new)["who"] == "gina"


@pytest.mark.parametrize("engine", [db, cached_db])
def test_flush_after_rotation_deletes_the_stored_row(engine):
    store = engine.SessionStore()
    store["_auth_user_id"] = "1"
    store.create()
    old = store.session_key
    store.cycle_key()
    store.flush()  # logout in the same request
    assert not Session.objects.filter(session_key=old).exists()
    assert engine.SessionStore(old).load() == {}


@pytest.mark.parametrize("engine", [db, cached_db])
def test_a_row_deleted_meanwhile_is_stored_anew_as_django_does(engine):
    store = engine.SessionStore()
    store["who"] = "hal"
    store.create()
    old = store.session_key
    store.cycle_key()
    Session.objects.filter(session_key=old).delete()
    store.save()
    assert engine.SessionStore(store.session_key)["who"] == "hal"


def test_a_rotation_onto_a_taken_key_draws_another(monkeypatch):
    taken = db.SessionStore()
    taken["who"] = "ivy"
    taken.create()
    store = db.SessionStore()
    store["who"] = "jo"
    store.create()
    old = store.session_key
    keys = iter([taken.session_key, "y" * 32])
    monkeypatch.setattr(db.SessionStore, "_get_new_session_key", lambda self: next(keys))
    store.cycle_key()
    store.save()
    assert store.session_key == "y" * 32
    assert db.SessionStore(taken.session_key)["who"] == "ivy"
    assert db.SessionStore("y" * 32)["who"] == "jo"
    assert not Session.objects.filter(session_key=old).exists()


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
    store.cycle_key()
    store.save()  # the write of the rotation (e.g. a view saving explicitly)
    with CaptureQueriesContext(connection) as queries:
        store.save()  # Django's end-of-request save of the same data
    assert [q for q in queries if "SAVEPOINT" not in q["sql"]] == []
    store["who"] = "frank"
    with CaptureQueriesContext(connection) as queries:
        store.save()
    assert any(q["sql"].startswith("UPDATE") for q in queries)
    assert engine.SessionStore(store.session_key)["who"] == "frank"


@pytest.mark.django_db(transaction=True)
def test_outside_a_transaction_the_move_is_one_statement_and_a_clash_still_draws_another(monkeypatch):
    # As served (no request-wide transaction): no BEGIN around the one statement, and a key clash,
    # with nothing to roll back, is retried under a new key.
    taken = db.SessionStore()
    taken["who"] = "ivy"
    taken.create()
    store = db.SessionStore()
    store["who"] = "jo"
    store.create()
    old = store.session_key
    keys = iter([taken.session_key, "w" * 32])
    monkeypatch.setattr(db.SessionStore, "_get_new_session_key", lambda self: next(keys))
    store.cycle_key()
    executed = []
    with connection.execute_wrapper(lambda execute, sql, *args: executed.append(sql) or execute(sql, *args)):
        store.save()
    assert store.session_key == "w" * 32
    assert not any(sql.upper().startswith(("BEGIN", "SAVEPOINT")) for sql in executed), executed
    assert db.SessionStore(taken.session_key)["who"] == "ivy"
    assert db.SessionStore("w" * 32)["who"] == "jo"
    assert not Session.objects.filter(session_key=old).exists()


@pytest.mark.parametrize("engine", [db, cached_db])
def test_loading_reads_one_row_and_an_expired_one_is_a_new_empty_session(engine):
    from datetime import timedelta

    from django.core.cache import cache
    from django.utils import timezone

    store = engine.SessionStore()
    store["who"] = "alice"
    store.create()
    cache.clear()  # cached_db: read the row, not the cache
    with CaptureQueriesContext(connection) as queries:
        assert dict(engine.SessionStore(store.session_key).load()) == {"who": "alice"}
    assert len(queries) == 1
    Session.objects.filter(session_key=store.session_key).update(expire_date=timezone.now() - timedelta(seconds=1))
    cache.clear()
    expired = engine.SessionStore(store.session_key)
    assert expired.load() == {} and expired.session_key is None  # as Django's expire_date__gt lookup
    missing = engine.SessionStore("x" * 32)
    assert missing.load() == {} and missing.session_key is None
