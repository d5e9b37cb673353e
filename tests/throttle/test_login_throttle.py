"""Password guessing is throttled per account and per client IP at every login (docs/security.md,
"Password guessing"): the site's form, the admin's, and anything else calling authenticate()."""

from __future__ import annotations

import html

import pytest
from django.contrib.auth import SESSION_KEY, authenticate, get_user_model
from django.test import Client

from mfa_oauth.audit.models import AuthEvent, EventKind
from tests.account.helpers import make_staff
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db

LOGIN = "/accounts/login/"
ADMIN_LOGIN = "/admin/login/?next=/admin/"
WRONG = "not the password"


def attempt(client: Client, username: str, password: str, url: str = LOGIN, **extra):
    return client.post(url, {"username": username, "password": password}, **extra)


def fail(client: Client, username: str = "alice", times: int = 1, url: str = LOGIN, **extra) -> None:
    for _ in range(times):
        attempt(client, username, WRONG, url, **extra)


def logged_in(client: Client) -> bool:
    return SESSION_KEY in client.session


def text(response) -> str:
    return html.unescape(response.content.decode())


def minutes_message(n: int) -> str:
    return f"Too many failed attempts. Try again in {n} minute{'s' if n != 1 else ''}."


# --- the finding ---------------------------------------------------------------------------------


def test_forty_wrong_passwords_then_the_right_one_is_refused(client, user):
    fail(client, times=40)
    response = attempt(client, "alice", PASSWORD)
    assert not logged_in(client)
    assert response.status_code == 429
    assert minutes_message(1) in text(response)


def test_admin_login_is_throttled(client, db):
    make_staff("root")
    fail(client, "root", times=40, url=ADMIN_LOGIN)
    response = attempt(client, "root", PASSWORD, ADMIN_LOGIN)
    assert not logged_in(client)
    assert response.status_code == 429
    assert minutes_message(1) in text(response)


def test_the_throttle_sits_below_the_view(user, rf):
    """A project's own login view calls authenticate(): refused there too, with no password check."""
    for _ in range(5):
        assert authenticate(rf.post("/elsewhere/"), username="alice", password=WRONG) is None
    request = rf.post("/elsewhere/")
    assert authenticate(request, username="alice", password=PASSWORD) is None
    assert request.mfa_oauth_login_throttle.scopes == ("account",)


# --- windows ---------------------------------------------------------------------------------------


def test_five_failures_are_free_then_the_right_password_waits(client, user, clock):
    fail(client, times=4)
    assert attempt(client, "alice", PASSWORD).status_code == 302  # the 5th attempt is still checked
    client.logout()
    fail(client, times=5)
    refused = attempt(client, "alice", PASSWORD)
    assert refused.status_code == 429 and refused["Retry-After"] == "60"
    assert minutes_message(1) in text(refused)
    assert not logged_in(client)
    clock.shift(61)
    assert attempt(client, "alice", PASSWORD).status_code == 302
    assert logged_in(client)


def test_the_window_doubles_and_is_capped(client, user, clock, mfa_settings):
    mfa_settings(LOGIN_THROTTLE_MAX_DELAY=600)
    fail(client, times=5)
    seen = []
    for _ in range(6):
        refused = attempt(client, "alice", PASSWORD)
        assert refused.status_code == 429
        seen.append(int(refused["Retry-After"]))
        assert minutes_message(-(-seen[-1] // 60)) in text(refused)
        clock.shift(seen[-1] + 1)
        fail(client)  # one guess per window
    assert seen == [60, 120, 240, 480, 600, 600]


def test_refused_attempts_are_not_counted(client, user, clock):
    fail(client, times=5)
    clock.shift(30)
    fail(client, times=20)  # hammering inside the window neither extends it nor raises the next one
    refused = attempt(client, "alice", PASSWORD)
    assert refused["Retry-After"] == "30"
    clock.shift(31)
    fail(client)
    assert attempt(client, "alice", PASSWORD)["Retry-After"] == "120"


def test_never_a_permanent_lock(client, user, clock):
    fail(client, times=5)
    for _ in range(12):  # far past the cap
        clock.shift(3601)
        fail(client)
    assert attempt(client, "alice", PASSWORD)["Retry-After"] == "3600"
    clock.shift(3601)
    assert attempt(client, "alice", PASSWORD).status_code == 302


def test_a_success_clears_the_account_count(client, user, clock):
    fail(client, times=4)
    assert attempt(client, "alice", PASSWORD).status_code == 302
    client.logout()
    fail(client, times=4)  # four fresh free failures, not one
    assert attempt(client, "alice", PASSWORD).status_code == 302


def test_counts_are_forgotten_a_day_after_the_last_failure(client, user, clock):
    fail(client, times=3)
    clock.shift(23 * 3600)
    fail(client)  # the fourth: the count now lives a day from here
    clock.shift(23 * 3600)
    fail(client)  # the fifth, 46 h after the first, is still counted: a window
    assert attempt(client, "alice", PASSWORD).status_code == 429
    clock.shift(24 * 3600 + 1)
    fail(client, times=4)  # forgotten: four free failures again
    assert attempt(client, "alice", PASSWORD).status_code == 302


def test_case_and_spacing_of_the_name_share_one_count(client, user, clock):
    for name in ("alice", "Alice", "ALICE", "alice ", "ａｌｉｃｅ"):
        fail(client, name)
    assert attempt(client, "alice", PASSWORD).status_code == 429


def test_an_unknown_name_is_counted_like_a_real_one(client, db, clock):
    fail(client, "nobody", times=5)
    refused = attempt(client, "nobody", WRONG)
    assert refused.status_code == 429 and minutes_message(1) in text(refused)


# --- per account, per IP ---------------------------------------------------------------------------


def test_an_account_window_blocks_only_that_account(client, user, clock):
    get_user_model().objects.create_user("bob", password=PASSWORD)
    fail(client, "alice", times=5)
    assert attempt(client, "alice", PASSWORD).status_code == 429
    assert attempt(client, "bob", PASSWORD).status_code == 302  # same IP, other account


def test_an_account_window_holds_from_every_ip(user, clock):
    fail(Client(REMOTE_ADDR="198.51.100.7"), times=5)
    other = Client(REMOTE_ADDR="203.0.113.50")
    assert attempt(other, "alice", PASSWORD).status_code == 429


def test_an_ip_guessing_many_accounts_is_throttled(user, clock, mfa_settings):
    mfa_settings(LOGIN_THROTTLE_IP_FREE_FAILURES=3)
    guesser = Client(REMOTE_ADDR="198.51.100.7")
    for name in ("carol", "dave", "erin"):
        fail(guesser, name)
    refused = attempt(guesser, "alice", PASSWORD)
    assert refused.status_code == 429 and minutes_message(1) in text(refused)
    # The IP window is the guesser's: alice signs in from anywhere else.
    elsewhere = Client(REMOTE_ADDR="203.0.113.50")
    assert attempt(elsewhere, "alice", PASSWORD).status_code == 302


def test_successful_logins_from_an_ip_do_not_raise_its_count(user, clock, mfa_settings):
    mfa_settings(LOGIN_THROTTLE_IP_FREE_FAILURES=3)
    office = Client(REMOTE_ADDR="198.51.100.7")
    for _ in range(10):
        assert attempt(office, "alice", PASSWORD).status_code == 302
        office.logout()
    fail(office, "carol", times=2)
    assert attempt(office, "alice", PASSWORD).status_code == 302


def test_an_ip_budget_is_per_period_not_a_standing_lock(user, clock, mfa_settings):
    mfa_settings(LOGIN_THROTTLE_IP_FREE_FAILURES=3)
    office = Client(REMOTE_ADDR="198.51.100.7")
    fail(office, "carol", times=2)
    clock.shift(3601)  # LOGIN_THROTTLE_IP_PERIOD after the first failure: a fresh budget
    fail(office, "dave", times=2)
    assert attempt(office, "alice", PASSWORD).status_code == 302


def test_an_ipv6_client_is_counted_by_its_64(user, clock, mfa_settings):
    mfa_settings(LOGIN_THROTTLE_IP_FREE_FAILURES=3)
    for address in ("2001:db8:1:2::1", "2001:db8:1:2::2", "2001:db8:1:2:ffff:ffff:ffff:ffff"):
        fail(Client(REMOTE_ADDR=address), "x")
    assert attempt(Client(REMOTE_ADDR="2001:db8:1:2::99"), "alice", PASSWORD).status_code == 429
    assert attempt(Client(REMOTE_ADDR="2001:db8:1:3::99"), "alice", PASSWORD).status_code == 302


# --- client IP behind proxies ----------------------------------------------------------------------


def test_x_forwarded_for_is_ignored_without_a_trusted_proxy(user, clock, mfa_settings):
    mfa_settings(LOGIN_THROTTLE_IP_FREE_FAILURES=3)
    guesser = Client(REMOTE_ADDR="198.51.100.7")
    for n, name in enumerate(("carol", "dave", "erin")):
        fail(guesser, name, HTTP_X_FORWARDED_FOR=f"203.0.113.{n}")
    refused = attempt(guesser, "alice", PASSWORD, HTTP_X_FORWARDED_FOR="203.0.113.99")
    assert refused.status_code == 429


def test_x_forwarded_for_is_honoured_from_a_trusted_proxy(user, clock, mfa_settings):
    mfa_settings(LOGIN_THROTTLE_IP_FREE_FAILURES=3, TRUSTED_PROXIES=["10.0.0.0/8"])
    proxy = Client(REMOTE_ADDR="10.1.2.3")
    for name in ("carol", "dave", "erin"):
        # The client forged a left-hand entry; the proxy appended what it saw.
        fail(proxy, name, HTTP_X_FORWARDED_FOR=f"192.0.2.{len(name)}, 203.0.113.9")
    assert attempt(proxy, "alice", PASSWORD, HTTP_X_FORWARDED_FOR="203.0.113.9").status_code == 429
    # Other clients behind the same proxy are not the guesser.
    assert attempt(proxy, "alice", PASSWORD, HTTP_X_FORWARDED_FOR="203.0.113.10").status_code == 302


def test_x_forwarded_for_from_an_untrusted_peer_is_ignored(user, clock, mfa_settings):
    mfa_settings(LOGIN_THROTTLE_IP_FREE_FAILURES=3, TRUSTED_PROXIES=["10.0.0.0/8"])
    direct = Client(REMOTE_ADDR="198.51.100.7")  # bypasses the proxy and forges the header
    for n, name in enumerate(("carol", "dave", "erin")):
        fail(direct, name, HTTP_X_FORWARDED_FOR=f"203.0.113.{n}")
    assert attempt(direct, "alice", PASSWORD, HTTP_X_FORWARDED_FOR="203.0.113.99").status_code == 429


# --- audit, bad input ------------------------------------------------------------------------------


def test_a_throttled_attempt_is_audited(client, user, clock):
    fail(client, times=5)
    attempt(client, "alice", PASSWORD)
    rows = list(AuthEvent.objects.filter(kind=EventKind.LOGIN_FAILED).order_by("pk"))
    assert len(rows) == 6
    assert all("throttled" not in row.detail for row in rows[:5])
    assert rows[5].user == user and rows[5].ip == "127.0.0.1"
    assert rows[5].detail == {"throttled": True, "scopes": ["account"], "retry_after": 60}


def test_a_cache_that_cannot_count_refuses_instead_of_letting_guesses_through(client, user, settings, mfa_settings):
    settings.CACHES = {
        **settings.CACHES,
        # Nothing listens on port 1: every cache call fails at once.
        "unreachable": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",
            "OPTIONS": {"socket_connect_timeout": 0.5},
        },
    }
    mfa_settings(LOGIN_THROTTLE_CACHE="unreachable")
    response = attempt(client, "alice", PASSWORD)
    assert response.status_code == 503 and not logged_in(client)
    assert "Signing in with a password is unavailable right now." in text(response)
    row = AuthEvent.objects.get(kind=EventKind.LOGIN_FAILED)
    assert row.detail == {"throttled": True, "reason": "unavailable"}


def test_the_throttle_can_be_turned_off_per_scope(client, user, clock, mfa_settings):
    mfa_settings(LOGIN_THROTTLE_ACCOUNT_FREE_FAILURES=None, LOGIN_THROTTLE_IP_FREE_FAILURES=0)
    fail(client, times=40)
    assert attempt(client, "alice", PASSWORD).status_code == 302
