"""When a remembered browser may stand in for the second factor, and how trust is established.

The rules (docs/security.md, "Remembered browsers"):
- off unless the client's BrowserTrustPolicy enables it;
- never when the client's policy wants a fresh factor (max_mfa_age) or restricts methods;
- never when the request asks for fresh authentication (``max_age``, ``prompt=login`` or
  ``max_age=0``, which the gate turns into a fresh-login session) or for a level above the
  client's own baseline (``acr_values``, essential ``acr`` claim);
- only for the user the cookie was issued to, for a row not revoked or expired, and while the
  device that established the trust is still one of the user's confirmed devices;
- only when the trust is younger than the asking client's own days (its BrowserTrustPolicy,
  capped by TRUSTED_BROWSER_MAX_DAYS), whichever client it was established for;
- the recorded factor keeps its original amr, level and time: ``amr`` reports the factors used
  when trust was established and ``auth_time`` is dated by that factor (mfa_oauth.context).
"""

from __future__ import annotations

import logging
import uuid
from datetime import datetime, timedelta
from datetime import timezone as dt_timezone
from typing import Any
from urllib.parse import parse_qs, urlparse

from django.apps import apps
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone

from mfa_oauth import clients
from mfa_oauth.conf import settings as mfa_settings
from mfa_oauth.context import LEVEL_MFA, REMEMBERED_METHOD, AuthContext, Factor
from mfa_oauth.methods import confirmed_devices
from mfa_oauth.models import MFAMode

from . import cookies
from .models import BrowserTrustPolicy, TrustedBrowser

log = logging.getLogger("mfa_oauth.trust")
REQUEST_ATTR = "_mfa_oauth_trust_cookie"  # (value, max_age) for the middleware to set
FORM_FIELD = "remember_browser"


def trust_days(application: Any) -> int:
    if application is None:
        return 0
    try:
        days = application.browser_trust.remember_days
    except (BrowserTrustPolicy.DoesNotExist, AttributeError):
        return 0
    return max(0, min(int(days or 0), int(mfa_settings.TRUSTED_BROWSER_MAX_DAYS)))


def _max_cookie_age() -> int:
    return int(mfa_settings.TRUSTED_BROWSER_MAX_DAYS) * 86400


def trusted_browser(request: HttpRequest) -> TrustedBrowser | None:
    """The valid TrustedBrowser this request's cookie names for its own user, or None."""
    raw = request.COOKIES.get(cookies.cookie_name())
    if not raw or not request.user.is_authenticated:
        return None
    parsed = cookies.loads(raw, _max_cookie_age())
    if parsed is None:
        log.warning("trust cookie with a bad signature ignored (user %s)", request.user.pk)
        return None
    user_pk, browser_id = parsed
    if user_pk != str(request.user.pk):
        log.warning("trust cookie of another user ignored (user %s)", request.user.pk)
        return None
    try:
        browser_uuid = uuid.UUID(browser_id)
    except ValueError:  # only possible with the signing key; still never a 500
        return None
    return TrustedBrowser.objects.valid().filter(pk=browser_uuid, user=request.user).first()


def remembered_factor(
    request: HttpRequest, *, application: Any, policy: Any, auth_request: Any, decision: Any
) -> Factor | None:
    """The remembered browser as a second-factor stand-in (DefaultMFAOAuthAdapter.substitute_second_factor)."""
    if cookies.cookie_name() not in request.COOKIES:
        return None  # nothing to recall: spare the client-policy query on every challenge
    days = trust_days(application)
    if not days:
        return None
    if policy.max_mfa_age is not None or policy.allowed_methods:
        return None
    if auth_request.max_age is not None or "login" in auth_request.prompt:
        return None
    baseline = policy.min_level
    if policy.mode in (MFAMode.ALWAYS, MFAMode.WHEN_ENROLLED):
        baseline = max(baseline, LEVEL_MFA)
    for asked in (auth_request.requested_level(), auth_request.essential_level()):
        if asked is not None and asked > baseline:
            return None
    browser = trusted_browser(request)
    if browser is None or browser.level < decision.required_level:
        return None
    if not trusted_within(browser, days):
        return None  # trusted for a longer-lived client: too old for this one
    if browser.device and browser.device not in {d.persistent_id for d in confirmed_devices(request.user)}:
        return None  # the factor that established the trust is gone
    return Factor(
        method=REMEMBERED_METHOD,
        amr=tuple(browser.amr),
        level=browser.level,
        at=int(browser.verified_at.timestamp()),
        device=browser.device,
    )


def trusted_within(browser: TrustedBrowser, days: int) -> bool:
    """Whether ``browser`` was trusted less than ``days`` ago.

    The row's own expiry is that of the client it was established for; every other client that
    allows remembered browsers accepts it only within its own days (docs/security.md, "Remembered
    browsers"). Dated by the second factor that established the trust, the time ``auth_time``
    reports."""
    return timezone.now() < browser.verified_at + timedelta(days=days)


def application_of_next(next_url: str):
    """The OAuth client of an /o/authorize/ or device-confirm ``next`` URL, or None."""
    parsed = urlparse(next_url or "")
    client_id = ""
    if parsed.path == reverse("oauth2_provider:authorize"):
        client_id = (parse_qs(parsed.query).get("client_id") or [""])[0]
    elif apps.is_installed("mfa_oauth.device") and parsed.path.startswith(
        reverse("oauth2_provider:device-confirm", args=["x", "y"])[: -len("x/y")]
    ):  # the device URLs exist only with mfa_oauth.device installed (mfa_oauth.oauth.urls)
        client_id = parsed.path.rstrip("/").split("/")[-2]
    # With its BrowserTrustPolicy, and read once per request where the login's gate read it already.
    return clients.by_client_id(client_id, browser_trust=True)


def checkbox_offer(request: HttpRequest, next_url: str) -> dict | None:
    """The verify page's extra field (DefaultMFAOAuthAdapter.get_challenge_extras) when the client allows trust."""
    days = trust_days(application_of_next(next_url))
    if not days:
        return None
    return {"template": "mfa_oauth/trust/remember_checkbox.html", "days": days, "field": FORM_FIELD}


def establish(request: Any, context: AuthContext, days: int) -> TrustedBrowser | None:
    """Trust this browser after a second factor was just verified; the middleware sets the cookie."""
    second = [f for f in context.second_factors if f.method != REMEMBERED_METHOD]
    if not second or days <= 0:
        return None
    factor = second[-1]
    now = timezone.now()
    browser = TrustedBrowser.objects.create(
        user=request.user,
        expires_at=now + timedelta(days=days),
        method=factor.method,
        amr=list(factor.amr),
        level=factor.level,
        verified_at=datetime.fromtimestamp(factor.at, tz=dt_timezone.utc),
        device=factor.device,
        label=request.META.get("HTTP_USER_AGENT", "")[:200],
    )
    setattr(request, REQUEST_ATTR, (cookies.dumps(request.user.pk, browser.pk), days * 86400))
    return browser


def forget_all(user: Any) -> int:
    """Revoke every remembered browser of ``user``; returns how many."""
    deleted, _ = TrustedBrowser.objects.filter(user=user).delete()
    return deleted
