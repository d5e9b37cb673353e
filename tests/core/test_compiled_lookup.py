"""mfa_oauth.lookups.CompiledLookup (the client read of mfa_oauth.clients): the same instances as the ORM's
lookup, with and without the joined rows, one statement per lookup, and the ORM itself for a queryset
it cannot reproduce."""

from __future__ import annotations

import django
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from oauth2_provider.models import get_application_model

from mfa_oauth import clients
from mfa_oauth.fapi.models import ClientSecurityProfile
from mfa_oauth.lookups import CompiledLookup, unique_or_none
from mfa_oauth.models import ClientPolicy
from mfa_oauth.trust.models import BrowserTrustPolicy

pytestmark = pytest.mark.django_db

RELATED = ("mfa_policy", "mfa_security", "browser_trust")

# The compiled path follows ModelIterable on Django 5.2 (requirements.txt pins it) and on 6.1, whose
# fetch modes it passes on as ModelIterable does; CI runs this file on both.
FETCH_MODES = django.VERSION >= (6, 1)


def _answered_by_compiled_sql(compiled: dict) -> bool:
    return bool(compiled) and None not in compiled.values()


def _fields(instance) -> dict:
    return {name: value for name, value in vars(instance).items() if name != "_state"}


def _state(instance) -> dict:
    """What Django keeps in ``_state`` besides the related-object cache (6.1: the fetch mode, peers)."""
    state = vars(instance._state)
    return {name: value for name, value in state.items() if name not in ("fields_cache", "peers")}


def _orm(client_id: str, related: tuple[str, ...]):
    return unique_or_none(get_application_model().objects.select_related(*related).filter(client_id=client_id))


def _assert_same(found, expected, related: tuple[str, ...]) -> None:
    assert _fields(found) == _fields(expected)
    assert found._state.db == expected._state.db and found._state.adding is expected._state.adding is False
    assert _state(found) == _state(expected)  # on 6.1 also the same fetch mode
    assert sorted(found._state.fields_cache) == sorted(expected._state.fields_cache) == sorted(related)
    for name in related:
        mine, theirs = found._state.fields_cache[name], expected._state.fields_cache[name]
        assert (mine is None) is (theirs is None), name
        if mine is not None:
            assert _fields(mine) == _fields(theirs)
            assert mine.application is found  # the reverse side is set, as select_related sets it


def test_a_client_without_its_rows_reads_as_the_orm_reads_it(make_application):
    application = make_application(client_id="bare")
    for related in (RELATED[:2], RELATED):
        with CaptureQueriesContext(connection) as queries:
            found = clients._by_client_id.get("bare", key=(get_application_model(), related))
            for name in related:  # cached as missing: no query
                with pytest.raises(Exception) as missing:
                    getattr(found, name)
                assert type(missing.value).__name__ == "RelatedObjectDoesNotExist"
        assert len(queries.captured_queries) == 1
        assert found.pk == application.pk
        _assert_same(found, _orm("bare", related), related)


def test_a_client_with_its_rows_reads_as_the_orm_reads_it(make_application):
    application = make_application(client_id="full")
    ClientPolicy.objects.create(application=application, mfa_mode="always", allowed_methods=["totp"])
    ClientSecurityProfile.objects.create(application=application, token_endpoint_auth_method="private_key_jwt")
    BrowserTrustPolicy.objects.create(application=application, remember_days=7)
    with CaptureQueriesContext(connection) as queries:
        found = clients.by_client_id("full", browser_trust=True)
        assert found.mfa_policy.allowed_methods == ["totp"]  # a JSONField, through its converter
        assert found.mfa_security.token_endpoint_auth_method == "private_key_jwt"
        assert found.browser_trust.remember_days == 7
    assert len(queries.captured_queries) == 1
    _assert_same(found, _orm("full", RELATED), RELATED)
    compiled = clients._by_client_id._compiled
    assert _answered_by_compiled_sql(compiled)  # the compiled statement answered, not the ORM (5.2)


def test_each_lookup_is_a_query_with_its_own_value(make_application):
    make_application(client_id="one")
    second = make_application(client_id="two")
    assert clients.by_client_id("one").client_id == "one"
    get_application_model().objects.filter(pk=second.pk).update(name="renamed")
    with CaptureQueriesContext(connection) as queries:
        assert clients.by_client_id("two").name == "renamed"  # never a cached row
        assert clients.by_client_id("three") is None
        assert clients.by_client_id("one' OR '1'='1") is None  # a parameter, never SQL text
    assert len(queries.captured_queries) == 3


def test_a_queryset_it_cannot_reproduce_goes_through_the_orm(make_application):
    make_application(client_id="deferred")  # named as its client_id
    lookup = CompiledLookup(
        lambda key, value: get_application_model().objects.only("client_id").filter(client_id=value)
    )
    found = lookup.get("deferred")
    assert found.client_id == "deferred" and found.get_deferred_fields()
    assert lookup._compiled and None in lookup._compiled.values()
    prefetching = CompiledLookup(
        lambda key, value: get_application_model().objects.prefetch_related("mfa_policy").filter(client_id=value)
    )
    assert prefetching.get("deferred").client_id == "deferred" and None in prefetching._compiled.values()


def test_a_value_used_twice_and_an_integer_value_with_an_annotation(make_application):
    from django.db.models import Value
    from django.db.models.functions import Concat

    from mfa_oauth.lookups import INTEGER_MARKER, TEXT_MARKER

    application = make_application(client_id="twice")
    Application = get_application_model()
    twice = CompiledLookup(
        lambda key, value, pk: Application.objects.filter(client_id=value, name=value, pk=pk).annotate(
            label=Concat("client_id", Value("/"), "name")
        ),
        markers=(TEXT_MARKER, INTEGER_MARKER),
        prepare=(None, int),
    )
    found = twice.get("twice", str(application.pk))
    assert found.pk == application.pk and found.label == "twice/twice"
    assert twice.get("twice", application.pk + 1) is None and twice.get("other", application.pk) is None
    assert _answered_by_compiled_sql(twice._compiled)  # compiled: both places of the text value, the int


def test_the_session_user_is_read_as_model_backend_reads_it(user):
    from django.contrib.auth import get_user_model
    from django.contrib.auth.backends import ModelBackend

    from mfa_oauth.throttle.backends import ThrottledModelBackend, _user_by_pk

    backend = ThrottledModelBackend()
    with CaptureQueriesContext(connection) as queries:
        found = backend.get_user(user.pk)
        assert backend.get_user(str(user.pk)).pk == user.pk  # the session's value, as the ORM takes it
        assert backend.get_user(user.pk + 1000) is None
    assert len(queries.captured_queries) == 3
    assert _fields(found) == _fields(ModelBackend().get_user(user.pk))
    assert _answered_by_compiled_sql(_user_by_pk._compiled)  # the compiled statement answered
    get_user_model().objects.filter(pk=user.pk).update(is_active=False)
    assert backend.get_user(user.pk) is None and ModelBackend().get_user(user.pk) is None
    with pytest.raises(ValueError):  # the ORM's own error for a value that is no primary key
        backend.get_user("not a number")


@pytest.mark.skipif(not FETCH_MODES, reason="fetch modes are Django 6.1's")
def test_a_fetch_peers_queryset_goes_through_the_orm(make_application):
    from django.db.models import FETCH_PEERS

    make_application(client_id="peers")
    lookup = CompiledLookup(
        lambda key, value: get_application_model().objects.fetch_mode(FETCH_PEERS).filter(client_id=value)
    )
    found = lookup.get("peers")
    # Declined at compile time: populators kept for the process would link unrelated lookups as peers.
    assert found.client_id == "peers" and list(lookup._compiled.values()) == [None]
    assert found._state.fetch_mode is FETCH_PEERS


class _ReadsElsewhere:
    """A primary/replica router: reads go to "replica", writes to "default"."""

    def db_for_read(self, model, **hints):
        return "replica"

    def db_for_write(self, model, **hints):
        return "default"


def test_a_select_for_update_lookup_goes_where_the_orm_sends_it(settings):
    from mfa_oauth import lockout
    from mfa_oauth.lookups import INTEGER_MARKER
    from mfa_oauth.models import UserMFAState

    settings.DATABASE_ROUTERS = [f"{__name__}._ReadsElsewhere"]
    held = CompiledLookup(
        lambda _key, pk: UserMFAState.objects.select_for_update().filter(user_id=pk), markers=(INTEGER_MARKER,)
    )
    plain = CompiledLookup(lambda _key, pk: UserMFAState.objects.filter(user_id=pk), markers=(INTEGER_MARKER,))
    assert UserMFAState.objects.select_for_update().db == held._alias(None) == "default"  # the row lock: the primary
    assert UserMFAState.objects.all().db == plain._alias(None) == "replica"
    assert lockout._held_row_of._alias(None) == "default" and lockout._row_of._alias(None) == "replica"


def test_the_lock_states_read_as_the_orm_reads_them(user):
    from django.db import transaction

    from mfa_oauth import lockout
    from mfa_oauth.models import UserMFAState

    with CaptureQueriesContext(connection) as queries:
        assert lockout.state(user) == lockout.LockState()  # no row yet
        with transaction.atomic():
            held = lockout.hold(user)  # creates the row
            assert lockout.record_failure(user, held) is None
    row = UserMFAState.objects.get(user=user)
    assert lockout.state(user).failures == row.failure_count == 1
    assert _answered_by_compiled_sql(lockout._row_of._compiled) and _answered_by_compiled_sql(
        lockout._held_row_of._compiled
    )
    reads = [q["sql"] for q in queries.captured_queries if q["sql"].startswith("SELECT")]
    assert len(reads) == 3  # state, hold, hold again after creating the row


def test_the_device_reloaded_under_the_lock_is_the_orms(client, user, totp_device):
    from django.db import transaction

    from mfa_oauth.verify.flows import _device_under_lock

    with transaction.atomic():
        found = _device_under_lock.get(totp_device.pk, key=type(totp_device))
        expected = type(totp_device).objects.select_for_update().get(pk=totp_device.pk)
    assert _fields(found) == _fields(expected) and _state(found) == _state(expected)
    assert _answered_by_compiled_sql(_device_under_lock._compiled)
    with transaction.atomic():
        assert _device_under_lock.get(totp_device.pk + 1000, key=type(totp_device)) is None
