"""What every robustness test checks after throwing junk: the database reset per example, the
audit log delta, the device rows, the token rows, and the shape of the answer."""

from __future__ import annotations

import copy
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import parse_qs, urlencode, urlparse

from django.db import transaction
from django.test import Client
from django_otp import device_classes
from oauth2_provider.models import get_access_token_model, get_grant_model, get_id_token_model, get_refresh_token_model

from mfa_oauth.audit.models import AuthEvent, EventKind

# Events a request made of junk may legitimately cause; anything else (a success, a factor added,
# tokens issued) means junk got somewhere it must not.
FAILURE_KINDS = {EventKind.LOGIN_FAILED, EventKind.MFA_FAILED, EventKind.LOCKED}
SUCCESS_KINDS = {
    EventKind.LOGIN_SUCCEEDED,
    EventKind.MFA_SUCCEEDED,
    EventKind.BACKUP_CODE_USED,
    EventKind.FACTOR_ADDED,
    EventKind.TOKENS_ISSUED,
}


@contextmanager
def isolated(client: Client | None = None) -> Iterator[Client]:
    """Run one example in a savepoint that is rolled back, with the client's cookies restored.

    Fixtures (user, devices, the logged-in session row) are made once per test; everything an
    example writes (lockout counters, audit rows, devices, the session's new state) disappears
    before the next one, so each example starts from the same state and failures shrink cleanly.
    The login throttle's counts live in the cache, not the database: forgotten here too."""
    from tests.conftest import forget_login_throttle

    forget_login_throttle()
    client = client or Client()
    cookies = copy.deepcopy(client.cookies)
    try:
        with transaction.atomic():
            yield client
            transaction.set_rollback(True)
    finally:
        client.cookies = cookies


def audit_counts() -> Counter:
    return Counter(AuthEvent.objects.values_list("kind", flat=True))


def audit_delta(before: Counter) -> Counter:
    after = audit_counts()
    return Counter(
        {kind: after[kind] - before[kind] for kind in set(after) | set(before) if after[kind] != before[kind]}
    )


def assert_only_failures(delta: Counter, allowed: set | frozenset = frozenset(FAILURE_KINDS)) -> None:
    unexpected = {kind: n for kind, n in delta.items() if kind not in allowed}
    assert not unexpected, f"junk caused audit events {unexpected}"
    assert all(n >= 0 for n in delta.values()), f"audit rows disappeared: {dict(delta)}"


def device_rows(user=None) -> dict[str, tuple[int, int]]:
    """(confirmed, unconfirmed) rows per device model, for ``user`` or everyone."""
    rows = {}
    for model in device_classes():
        queryset = model._base_manager.all()
        if user is not None:
            queryset = queryset.filter(user=user)
        confirmed = queryset.filter(confirmed=True).count()
        rows[model._meta.label_lower] = (confirmed, queryset.count() - confirmed)
    return rows


def token_rows() -> dict[str, int]:
    models = (get_access_token_model(), get_refresh_token_model(), get_grant_model(), get_id_token_model())
    return {model._meta.label_lower: model._base_manager.count() for model in models}


def assert_not_5xx(response) -> None:
    assert response.status_code < 500, (response.status_code, response.content[:500])


def assert_same_site(location: str) -> None:
    """A redirect of ours after junk ``next`` stays on this site (no open redirect)."""
    # Browsers treat "\\" like "/" and drop leading control characters and spaces.
    normalized = location.replace("\\", "/").lstrip("".join(chr(c) for c in range(33)))
    parsed = urlparse(normalized)
    # A relative reference ("a", "/x", "?q") resolves on this site; anything with a host must be ours.
    assert parsed.scheme in ("", "http") and parsed.netloc in ("", "testserver"), location[:300]
    assert not normalized.startswith("//") or parsed.netloc == "testserver", location[:300]


def query_of(location: str) -> dict[str, list[str]]:
    parsed = urlparse(location)
    return parse_qs(parsed.query, keep_blank_values=True) | parse_qs(parsed.fragment, keep_blank_values=True)


def assert_no_credentials_in(location: str) -> None:
    params = query_of(location)
    leaked = {"code", "access_token", "id_token", "refresh_token"} & set(params)
    assert not leaked, f"junk got {leaked} in {location[:300]}"


def send(client: Client, method: str, path: str, data: dict | None = None, **extra):
    """``data`` as a form body for methods that carry one, else in the query string."""
    data = data or {}
    if method in ("POST", "PUT", "PATCH"):
        return client.generic(method, path, urlencode(data), content_type="application/x-www-form-urlencoded", **extra)
    query = urlencode(data)
    return client.generic(method, f"{path}?{query}" if query else path, **extra)
