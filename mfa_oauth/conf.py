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
    # Consecutive second-factor failures per user that lock the code factors for the next of
    # LOCKOUT_WINDOWS (below). NIST SP 800-63B-4 §3.2.2 allows at most 100.
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
    # --- WebAuthn (mfa_oauth.webauthn) ---
    # The relying party id: the registrable domain credentials are bound to (never an IP address;
    # browsers refuse them). Production sets the site's domain, e.g. "id.example.com".
    "WEBAUTHN_RP_ID": "localhost",
    # The name authenticators show when a credential is created.
    "WEBAUTHN_RP_NAME": "mfa_oauth",
    # The exact origins (scheme://host[:port]) assertions may come from (WebAuthn L2 §7.1 step 9).
    "WEBAUTHN_ORIGINS": ["http://localhost:8000"],
    # Development only: also accept the origin of the request itself (scheme + Host, which
    # ALLOWED_HOSTS has vetted), for servers on changing ports. A system check warns when DEBUG is off.
    "WEBAUTHN_TRUST_REQUEST_ORIGIN": False,
    # Seconds a registration or sign-in challenge stays valid (also the browser's timeout hint).
    "WEBAUTHN_CHALLENGE_TIMEOUT": 300,
    # "required": every second-factor assertion must carry user verification (PIN/biometric);
    # "preferred": asked for, and recorded (amr "user", level phrh) only when the authenticator did it.
    # Passkey sign-in without a password always requires it.
    "WEBAUTHN_USER_VERIFICATION": "preferred",
    # COSE algorithms accepted at registration: ES256, EdDSA, RS256.
    "WEBAUTHN_ALGORITHMS": [-7, -8, -257],
    # --- HOTP hardware tokens (django-otp's otp_hotp, bounded by mfa_oauth.hotp) ---
    # Largest look-ahead window (HOTPDevice.tolerance) a token may have: how many presses ahead of
    # the server's counter a code may be and still resynchronise it (RFC 4226 §7.4).
    "HOTP_MAX_TOLERANCE": 10,
    # --- SMS one-time codes (mfa_oauth.sms) ---------------------------------------------------
    # Turn the SMS factor off for a deployment (NIST SP 800-63B-4 §3.2.9: SMS is "restricted").
    "SMS_ENABLED": True,
    # Gateway: "console" (prints the message; the embedded default), "locmem" (kept in memory for
    # tests), "twilio" (the official client), or a dotted path to a class with the same interface.
    "SMS_BACKEND": "console",
    # Site name put in every message next to the code (and nothing else secret).
    "SMS_SITE_NAME": "mfa_oauth",
    # Seconds a code is valid; clamped to 30..600 (NIST §3.1.3.2: at most 10 minutes).
    "SMS_CODE_VALIDITY": 300,
    # Seconds between two sends to the same device.
    "SMS_COOLDOWN": 30,
    # Sends to one phone number per rolling hour (counted over all users and devices). For this and
    # the three caps below, None or 0 turns that cap off.
    "SMS_MAX_PER_NUMBER_PER_HOUR": 5,
    # Sends to one user per rolling day.
    "SMS_MAX_PER_USER_PER_DAY": 10,
    # Sends requested from one client IP per rolling hour.
    "SMS_MAX_PER_IP_PER_HOUR": 10,
    # Sends by the whole site per rolling minute (a brake on SMS pumping).
    "SMS_MAX_GLOBAL_PER_MINUTE": 60,
    # ISO 3166 country codes numbers may belong to; empty: every country.
    "SMS_ALLOWED_COUNTRIES": (),
    # phonenumbers number types accepted (names of phonenumbers.PhoneNumberType). Premium-rate,
    # toll-free, shared-cost and landline numbers are refused.
    "SMS_ALLOWED_NUMBER_TYPES": ("MOBILE", "FIXED_LINE_OR_MOBILE"),
    # Region used to read numbers typed without a +country prefix; None: the + is required.
    "SMS_DEFAULT_REGION": None,
    # Retries of a transient gateway failure (429, 5xx, timeouts), always within the code's life.
    "SMS_MAX_RETRIES": 5,
    # Upper bound (seconds) of one retry delay before jitter (SECURITY.md E6: at most 30 s).
    "SMS_RETRY_BACKOFF_MAX": 30,
    # Seconds after which a row left in "sending" is presumed abandoned by a dead worker; at least
    # the send task's hard time limit.
    "SMS_SENDING_LEASE": 60,
    # Seconds a row may sit in "queued" before the sweep re-enqueues it (the broker was down).
    "SMS_SWEEP_GRACE": 20,
    # Seconds of the gateway's HTTP timeout.
    "SMS_HTTP_TIMEOUT": 10,
    # Twilio credentials and sender (a From number or a Messaging Service SID).
    "TWILIO_ACCOUNT_SID": "",
    "TWILIO_AUTH_TOKEN": "",
    "TWILIO_FROM_NUMBER": "",
    "TWILIO_MESSAGING_SERVICE_SID": "",
    # Twilio's REST base URL (tests point it at a local Twilio-shaped server).
    "TWILIO_API_BASE_URL": "https://api.twilio.com",
    # The public base URL Twilio calls back (https://idp.example.com); empty: no status callback.
    # The webhook validates signatures against this URL, so it must be what Twilio really called.
    "SMS_PUBLIC_BASE_URL": "",
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

# --- second-factor lockout windows (docs/security.md, "Second-factor lockout") ----------------------
DEFAULTS.update(
    {
        # Seconds each lock lasts once MAX_FAILED_ATTEMPTS wrong codes in a row are reached: the n-th
        # lock since the last success lasts the n-th entry, the last entry repeating. After a window
        # the count restarts; a success or an operator's unlock resets the escalation. Whatever the
        # windows, the lock that brings the consecutive failures to 100 (NIST SP 800-63B-4 §3.2.2)
        # has no end: only a success with a factor that stays usable, or an operator, ends it.
        "LOCKOUT_WINDOWS": (15 * 60, 60 * 60, 4 * 60 * 60, 24 * 60 * 60),
        # Whether a WebAuthn assertion with user verification (a security key or passkey and its PIN
        # or biometric: phishing-resistant and multi-factor) is still accepted, at the challenge step
        # and for passkey sign-in, while the code factors are locked. A guesser cannot fail it, so
        # locking it would lock out only its owner.
        "PASSKEY_USABLE_WHILE_LOCKED": True,
    }
)
