"""Remember this browser: skips the second factor only where allowed, revocable, honest claims."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.core import signing
from django.test import Client
from django_otp.plugins.otp_totp.models import TOTPDevice

from mfa_oauth.context import ACR_MFA
from mfa_oauth.trust.cookies import SALT, cookie_name
from mfa_oauth.trust.models import BrowserTrustPolicy, TrustedBrowser
from tests.conftest import PASSWORD

from .conftest import START, Pending, RelyingParty, journey, login, use_totp

T0 = int(START.timestamp())
DAY = 86400


@pytest.fixture
def trusting_app(stepup_app):
    BrowserTrustPolicy.objects.create(application=stepup_app, remember_days=30)
    return stepup_app


@pytest.fixture
def rp(trusting_app) -> RelyingParty:
    return RelyingParty(trusting_app.client_id)


def sign_in(rp, browser, second=None, **extra):
    pending = Pending()
    trip = journey(browser, rp.authorize_path(pending, **extra), second=second)
    tokens = rp.redeem(trip.code, pending) if "code" in trip.callback else None
    return trip, tokens


def trusted_browser_client(rp, totp_device, clock) -> Client:
    """A browser that ticked "trust this browser", then logged out two days ago."""
    browser = Client()
    trip, tokens = sign_in(rp, browser, use_totp(totp_device, remember=True))
    assert trip.steps == ["login", "verify", "consent", "callback"]
    assert tokens["claims"]["auth_time"] == T0
    browser.post("/accounts/logout/")
    clock.shift(2 * DAY)
    return browser


def test_the_checkbox_is_offered_and_the_cookie_is_hardened(rp, totp_device, clock):
    browser = Client()
    page = journey(browser, rp.authorize_path(Pending()))  # stops on the challenge page
    assert page.steps == ["login", "verify"]
    verify_page = browser.get("/mfa/verify/?next=" + rp.authorize_path(Pending()).replace("&", "%26"))
    assert b'id="mfa-remember-browser"' in verify_page.content
    assert b"Trust this browser for 30 days" in verify_page.content

    browser = trusted_browser_client(rp, totp_device, clock)
    morsel = browser.cookies[cookie_name()]
    assert cookie_name().startswith("__Host-")
    assert morsel["httponly"] and morsel["secure"]
    assert morsel["samesite"] == "Lax"
    assert morsel["path"] == "/"
    assert int(morsel["max-age"]) == 30 * DAY
    assert TrustedBrowser.objects.get().amr == ["otp"]


def test_a_remembered_browser_skips_the_factor_and_claims_stay_honest(rp, totp_device, clock):
    browser = trusted_browser_client(rp, totp_device, clock)
    trip, tokens = sign_in(rp, browser)
    assert trip.steps == ["login", "consent", "callback"]  # no challenge
    claims = tokens["claims"]
    assert claims["acr"] == ACR_MFA
    assert claims["amr"] == ["pwd", "otp", "mfa"]  # the factors used when the trust was established
    assert claims["auth_time"] == T0  # dated by the remembered TOTP, not by today's password
    introspected = rp.introspect(tokens["access_token"])
    assert (introspected["acr"], introspected["amr"], introspected["auth_time"]) == (
        claims["acr"],
        claims["amr"],
        claims["auth_time"],
    )


def test_max_age_prompt_login_and_higher_acr_values_always_ask(rp, totp_device, security_key, clock):
    browser = trusted_browser_client(rp, totp_device, clock)
    trip, _ = sign_in(rp, browser, max_age="86400")
    assert trip.steps == ["login", "verify"]
    assert journey(browser, rp.authorize_path(Pending(), acr_values="phr")).steps == ["verify"]

    # Without max_age the same half-authenticated session may use the trust ...
    trip, tokens = sign_in(rp, browser)
    assert trip.steps == ["consent", "callback"]
    # ... but prompt=login and max_age=0 on that live session need a fresh password AND factor.
    clock.shift(31)
    assert journey(browser, rp.authorize_path(Pending(), prompt="login")).steps == ["login", "verify"]
    assert journey(browser, rp.authorize_path(Pending(), max_age="0")).steps == ["login", "verify"]


def test_acr_values_at_the_clients_own_level_may_use_the_trust(rp, totp_device, clock):
    browser = trusted_browser_client(rp, totp_device, clock)
    trip, tokens = sign_in(rp, browser, acr_values=ACR_MFA)
    assert trip.steps == ["login", "consent", "callback"]
    assert tokens["claims"]["acr"] == ACR_MFA


def forge(browser: Client, value: str) -> None:
    browser.cookies[cookie_name()] = value


@pytest.mark.parametrize(
    "tamper",
    [
        lambda value: value[:-2] + ("AA" if not value.endswith("AA") else "BB"),  # bad signature
        lambda value: "not-a-cookie",
        lambda value: "",
        lambda value: signing.dumps({"u": "1", "b": "00000000-0000-0000-0000-000000000000"}, salt=SALT),
        lambda value: signing.dumps({"u": "1", "b": "not-a-uuid"}, salt=SALT),
        lambda value: signing.dumps(["odd"], salt=SALT),
        lambda value: signing.dumps({"u": "1", "b": value}, salt="another-salt"),
        lambda value: "x" * 5000,
    ],
)
def test_a_forged_cookie_never_skips_the_factor(rp, totp_device, clock, tamper):
    browser = trusted_browser_client(rp, totp_device, clock)
    forge(browser, tamper(browser.cookies[cookie_name()].value))
    trip = journey(browser, rp.authorize_path(Pending()))
    assert trip.steps == ["login", "verify"]


def test_another_users_cookie_never_skips_the_factor(rp, totp_device, clock):
    bob = get_user_model().objects.create_user("bob", "bob@example.com", PASSWORD)
    bob_totp = TOTPDevice.objects.create(user=bob, name="bob phone", confirmed=True)
    bobs_browser = Client()
    trip = journey(bobs_browser, rp.authorize_path(Pending()), second=use_totp(bob_totp, remember=True), username="bob")
    assert "code" in trip.callback
    bobs_cookie = bobs_browser.cookies[cookie_name()].value

    alices_browser = Client()
    forge(alices_browser, bobs_cookie)
    trip = journey(alices_browser, rp.authorize_path(Pending()))
    assert trip.steps == ["login", "verify"]


def test_forget_all_browsers_revokes_the_cookie(rp, totp_device, clock):
    browser = trusted_browser_client(rp, totp_device, clock)
    kept = browser.cookies[cookie_name()].value
    trip, _ = sign_in(rp, browser)  # still trusted
    assert trip.steps == ["login", "consent", "callback"]

    # Managing remembered browsers needs this session's own second factor.
    assert browser.get("/mfa/trust/")["Location"] == "/mfa/verify/?next=%2Fmfa%2Ftrust%2F"
    use_totp(totp_device)(browser, "/mfa/verify/", {"next": "/mfa/trust/"})
    page = browser.get("/mfa/trust/")
    assert b"(this browser)" in page.content
    response = browser.post("/mfa/trust/forget/")
    assert response.status_code == 302
    assert response.cookies[cookie_name()]["max-age"] == 0
    assert not TrustedBrowser.objects.exists()

    browser.post("/accounts/logout/")
    forge(browser, kept)  # a copy of the old cookie is worthless too
    trip = journey(browser, rp.authorize_path(Pending()))
    assert trip.steps == ["login", "verify"]


def test_the_admin_action_forgets_every_browser_of_the_user(rp, totp_device, clock):
    browser = trusted_browser_client(rp, totp_device, clock)
    from tests.conftest import pass_second_factor

    root = get_user_model().objects.create_superuser("root", "root@example.com", PASSWORD)
    admin = Client()
    pass_second_factor(admin, root)  # the admin site asks staff for a second factor
    response = admin.post(
        "/admin/mfa_oauth_trust/trustedbrowser/",
        {"action": "forget_all_of_users", "_selected_action": [str(TrustedBrowser.objects.get().pk)]},
    )
    assert response.status_code == 302
    assert not TrustedBrowser.objects.exists()
    assert journey(browser, rp.authorize_path(Pending())).steps == ["login", "verify"]


def test_off_by_default_and_per_client(rp, make_application, totp_device, clock):
    browser = trusted_browser_client(rp, totp_device, clock)
    other = make_application(mfa_mode="always", client_id="no-trust")
    other_rp = RelyingParty(other.client_id)
    trip = journey(browser, other_rp.authorize_path(Pending()))
    assert trip.steps == ["login", "verify"]
    page = browser.get("/mfa/verify/?next=" + other_rp.authorize_path(Pending()).replace("&", "%26"))
    assert b"mfa-remember-browser" not in page.content


def test_a_client_policy_that_wants_a_fresh_factor_is_never_skipped(rp, trusting_app, totp_device, clock):
    browser = trusted_browser_client(rp, totp_device, clock)
    trusting_app.mfa_policy.max_mfa_age = 3 * DAY
    trusting_app.mfa_policy.save()
    assert journey(browser, rp.authorize_path(Pending())).steps == ["login", "verify"]


def test_removing_the_device_ends_the_trust(rp, totp_device, clock, security_key):
    browser = trusted_browser_client(rp, totp_device, clock)
    totp_device.delete()
    assert journey(browser, rp.authorize_path(Pending())).steps == ["login", "verify"]


def test_the_trust_expires(rp, totp_device, clock):
    browser = trusted_browser_client(rp, totp_device, clock)
    clock.shift(29 * DAY)
    assert journey(browser, rp.authorize_path(Pending())).steps == ["login", "verify"]


def test_ticking_the_box_for_a_client_without_trust_establishes_nothing(make_application, totp_device, clock):
    app = make_application(mfa_mode="always", client_id="plain")
    rp = RelyingParty(app.client_id)
    browser = Client()
    trip, _ = sign_in(rp, browser, use_totp(totp_device, remember=True))
    assert "code" in trip.callback
    assert not TrustedBrowser.objects.exists()
    assert cookie_name() not in browser.cookies


def test_a_remembered_factor_never_carries_over_to_another_client(rp, make_application, totp_device, clock):
    browser = trusted_browser_client(rp, totp_device, clock)
    trip, _ = sign_in(rp, browser)  # client A allows trust: the session now holds the remembered factor
    assert trip.steps == ["login", "consent", "callback"]

    strict = RelyingParty(make_application(mfa_mode="always", client_id="strict").client_id)
    trip, tokens = sign_in(strict, browser, use_totp(totp_device))
    assert trip.steps == ["verify", "consent", "callback"]  # B asks for a real second factor
    assert tokens["claims"]["auth_time"] == T0 + 2 * DAY  # dated by that real factor

    browser.post("/accounts/logout/")
    trip, _ = sign_in(rp, browser)  # A again, fresh session: trust applies
    relaxed = RelyingParty(make_application(mfa_mode="off", client_id="relaxed").client_id)
    trip, tokens = sign_in(relaxed, browser)
    assert trip.steps == ["consent", "callback"]
    # A password-only client never reports the remembered factor as its authentication.
    assert tokens["claims"]["acr"] == "urn:mfa_oauth:acr:pwd"
    assert tokens["claims"]["amr"] == ["pwd"]


def test_a_client_accepts_only_a_trust_younger_than_its_own_days(rp, make_application, totp_device, clock):
    # Trusted for client A (30 days); client B allows remembered browsers for 1 day only.
    browser = trusted_browser_client(rp, totp_device, clock)  # trusted at T0, now T0 + 2 days
    brief = make_application(mfa_mode="always", client_id="brief")
    BrowserTrustPolicy.objects.create(application=brief, remember_days=1)
    brief_rp = RelyingParty(brief.client_id)
    trip, _ = sign_in(brief_rp, browser)
    assert trip.steps == ["login", "verify"]  # two days old: too old for B
    browser.post("/accounts/logout/")
    clock.shift(8 * DAY)
    trip, _ = sign_in(brief_rp, browser)
    assert trip.steps == ["login", "verify"]  # ten days old
    browser.post("/accounts/logout/")
    # A still accepts it (within its 30 days): B's refusal revoked nothing.
    trip, tokens = sign_in(rp, browser)
    assert trip.steps == ["login", "consent", "callback"]
    assert tokens["claims"]["auth_time"] == T0


def test_a_trust_younger_than_the_clients_days_is_accepted(rp, make_application, totp_device, clock):
    brief = make_application(mfa_mode="always", client_id="brief")
    BrowserTrustPolicy.objects.create(application=brief, remember_days=1)
    browser = Client()
    trip, _ = sign_in(rp, browser, use_totp(totp_device, remember=True))  # trusted for A at T0
    browser.post("/accounts/logout/")
    clock.shift(DAY - 60)
    trip, tokens = sign_in(RelyingParty(brief.client_id), browser)
    assert trip.steps == ["login", "consent", "callback"]
    assert tokens["claims"]["auth_time"] == T0
    browser.post("/accounts/logout/")
    clock.shift(120)  # now one day and a minute old
    trip, _ = sign_in(RelyingParty(brief.client_id), browser)
    assert trip.steps == ["login", "verify"]


def test_the_sites_cap_bounds_a_trust_established_under_a_longer_one(rp, totp_device, clock, settings):
    browser = trusted_browser_client(rp, totp_device, clock)  # trusted for 30 days at T0
    settings.MFA_OAUTH = {**settings.MFA_OAUTH, "TRUSTED_BROWSER_MAX_DAYS": 7}
    clock.shift(4 * DAY)  # six days old
    trip, _ = sign_in(rp, browser)
    assert trip.steps == ["login", "consent", "callback"]
    browser.post("/accounts/logout/")
    clock.shift(2 * DAY)  # eight days old: beyond the cap the operator lowered
    trip, _ = sign_in(rp, browser)
    assert trip.steps == ["login", "verify"]


# --- /mfa/trust/: a complete sign-in, and only the methods it serves ----------------------------


def test_the_trust_page_needs_the_second_factor_of_this_session(rp, totp_device, clock):
    trusted_browser_client(rp, totp_device, clock)
    intruder = Client()  # knows the password, not the second factor
    login(intruder)
    page = intruder.get("/mfa/trust/")
    assert page.status_code == 302
    assert page["Location"] == "/mfa/verify/?next=%2Fmfa%2Ftrust%2F"
    forget = intruder.post("/mfa/trust/forget/")
    assert forget.status_code == 302
    assert forget["Location"] == "/mfa/verify/?next=%2Fmfa%2Ftrust%2F"  # back to the page, not the POST URL
    assert TrustedBrowser.objects.count() == 1

    anonymous = Client()
    assert anonymous.get("/mfa/trust/")["Location"].startswith("/accounts/login/")
    assert anonymous.post("/mfa/trust/forget/")["Location"].startswith("/accounts/login/")
    assert TrustedBrowser.objects.count() == 1

    # The same session once the second factor is proved.
    clock.shift(30)
    use_totp(totp_device)(intruder, "/mfa/verify/", {"next": "/mfa/trust/"})
    assert intruder.get("/mfa/trust/").status_code == 200
    assert intruder.post("/mfa/trust/forget/").status_code == 302
    assert not TrustedBrowser.objects.exists()


def test_a_remembered_browser_is_not_a_complete_sign_in_for_the_trust_page(rp, totp_device, clock):
    browser = trusted_browser_client(rp, totp_device, clock)
    trip, _ = sign_in(rp, browser)  # the remembered factor stood in for the TOTP
    assert trip.steps == ["login", "consent", "callback"]
    assert browser.get("/mfa/trust/")["Location"] == "/mfa/verify/?next=%2Fmfa%2Ftrust%2F"
    assert browser.post("/mfa/trust/forget/").status_code == 302
    assert TrustedBrowser.objects.count() == 1


def test_a_remembered_browser_is_not_a_complete_sign_in_for_the_security_page(rp, totp_device, clock):
    browser = trusted_browser_client(rp, totp_device, clock)
    trip, _ = sign_in(rp, browser)  # the remembered factor stood in for the TOTP
    assert trip.steps == ["login", "consent", "callback"]
    response = browser.get("/account/security/")
    assert response.status_code == 302
    assert response["Location"].startswith("/mfa/verify/")


def test_the_trust_page_of_a_user_without_a_second_factor_needs_the_password_only(user):
    browser = Client()
    login(browser)
    assert browser.get("/mfa/trust/").status_code == 200


@pytest.mark.parametrize(
    "path,method",
    [
        *[("/mfa/trust/", m) for m in ("head", "post", "put", "patch", "delete", "options", "trace")],
        *[("/mfa/trust/forget/", m) for m in ("get", "head", "put", "patch", "delete", "options", "trace")],
    ],
)
@pytest.mark.parametrize("session", ["anonymous", "password_only", "complete"])
def test_the_trust_pages_refuse_the_methods_they_do_not_serve(rp, totp_device, clock, path, method, session):
    browser = trusted_browser_client(rp, totp_device, clock)
    if session != "anonymous":
        login(browser)
    if session == "complete":
        use_totp(totp_device)(browser, "/mfa/verify/", {"next": "/mfa/trust/"})
        assert browser.get("/mfa/trust/").status_code == 200
    response = getattr(browser, method)(path)
    assert response.status_code == 405
    assert TrustedBrowser.objects.count() == 1


def test_a_remembered_browser_never_makes_the_session_fresh_for_account_changes(rp, totp_device, clock):
    browser = Client()
    trip, _ = sign_in(rp, browser, use_totp(totp_device, remember=True))  # trusted at T0
    browser.post("/accounts/logout/")
    clock.shift(60)  # well within FRESH_MFA_WINDOW of the factor that established the trust
    trip, _ = sign_in(rp, browser)
    assert trip.steps == ["login", "consent", "callback"]  # the trust stood in for the TOTP
    remove = f"/account/security/factors/{totp_device.persistent_id}/remove/"
    for path in (remove, "/mfa/enroll/totp/", "/account/security/backup-codes/"):
        response = browser.get(path)
        assert response.status_code == 302, path
        assert response["Location"].startswith("/mfa/verify/?next="), path
    assert browser.post(remove)["Location"].startswith("/mfa/verify/")
    assert TOTPDevice.objects.filter(pk=totp_device.pk).exists()
    # This session's own TOTP makes it fresh.
    clock.shift(30)
    use_totp(totp_device)(browser, "/mfa/verify/", {"next": remove})
    assert browser.get(remove).status_code == 200
