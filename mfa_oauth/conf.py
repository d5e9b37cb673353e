"""The one place where mfa_oauth reads its settings.

Projects override any key through a ``MFA_OAUTH`` dict in their Django settings;
everything else falls back to the documented default below.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings as django_settings

DEFAULTS: dict[str, Any] = {
    # Policy applied to OAuth clients without a ClientPolicy row:
    # "off" (password is enough), "when_enrolled" (second factor when the user has one),
    # "always" (users without a device are taken through enrollment).
    "DEFAULT_MFA_MODE": "when_enrolled",
    # Consecutive second-factor failures per user before the factor is locked until an admin or
    # a recovery path unlocks it. NIST SP 800-63B-4 §3.2.2 allows at most 100.
    "MAX_FAILED_ATTEMPTS": 10,
    # Seconds a password-only ("half-authenticated") session may wait at the challenge step.
    "PENDING_MFA_TIMEOUT": 600,
    # Number of backup codes per set (at least 10).
    "BACKUP_CODE_COUNT": 10,
    # Issuer label shown by authenticator apps.
    "TOTP_ISSUER": "mfa_oauth",
    # Seconds a second factor counts as "fresh" for sensitive account changes.
    "FRESH_MFA_WINDOW": 300,
    # URL names of the steps the authorization gate sends the browser to.
    "VERIFY_URL": "mfa_oauth:verify",
    "ENROLL_URL": "mfa_oauth:enroll-totp",
}

MAX_FAILED_ATTEMPTS_CEILING = 100


class Settings:
    def __getattr__(self, name: str) -> Any:
        if name not in DEFAULTS:
            raise AttributeError(f"Unknown mfa_oauth setting {name!r}")
        overrides = getattr(django_settings, "MFA_OAUTH", {}) or {}
        value = overrides.get(name, DEFAULTS[name])
        if name == "MAX_FAILED_ATTEMPTS":
            value = max(1, min(int(value), MAX_FAILED_ATTEMPTS_CEILING))
        return value


settings = Settings()

# --- step-up (issue 6) --------------------------------------------------------------------------
DEFAULTS.update(
    {
        # Session lifetime (SECURITY.md H1; NIST SP 800-63B-4 §2.2.3, AAL2): seconds without a request
        # after which the session ends (idle), and seconds after the login after which it ends however
        # active it is (absolute). None switches a limit off. Enforced by
        # mfa_oauth.lifetime.SessionLifetimeMiddleware.
        "SESSION_IDLE_TIMEOUT": 3600,
        "SESSION_ABSOLUTE_TIMEOUT": 24 * 3600,
        # Resource servers (mfa_oauth.resource): empty URL = validate bearer tokens locally through
        # DOT's tables; otherwise the RFC 7662 introspection endpoint of the authorization server and
        # the client credentials the resource server authenticates with there.
        "RESOURCE_SERVER_INTROSPECTION_URL": "",
        "RESOURCE_SERVER_INTROSPECTION_CLIENT_ID": "",
        "RESOURCE_SERVER_INTROSPECTION_CLIENT_SECRET": "",
        "RESOURCE_SERVER_INTROSPECTION_TIMEOUT": 5.0,
        # Remember this browser (mfa_oauth.trust; off unless a client's BrowserTrustPolicy enables it):
        # the cookie's name, whether it is Secure (turn off only for plain-http development), and the
        # longest trust any client may ask for, in days.
        "TRUSTED_BROWSER_COOKIE_NAME": "mfa_oauth_trusted_browser",
        "TRUSTED_BROWSER_COOKIE_SECURE": True,
        "TRUSTED_BROWSER_MAX_DAYS": 30,
    }
)
