"""The one place where mfa_oauth reads its settings.

Projects override any key through a ``MFA_OAUTH`` dict in their Django settings; everything else falls
back to the documented default below (one block; docs/extending.md has them as a table). System checks
mfa_oauth.W120 (an unknown key, with the nearest known one), E123 (a value of the wrong type) and W121 (a
setting still under its old top-level name) keep a typo from silently falling back to the default.
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
    # "preferred": asked for, and recorded (amr "user"; level phrh for an attested hardware key) only when
    # the authenticator did it.
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
    # Upper bound (seconds) of one retry delay before jitter (at most 30 s: well inside a code's life).
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
    # --- step-up, session lifetime, resource servers, remembered browsers -----------------------------
    # Session lifetime (NIST SP 800-63B-4 §2.2.3, AAL2): seconds without a request
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
    # --- WebAuthn attestation trust (mfa_oauth.webauthn.trust; docs/security.md) ----------------------
    # Trust anchors for attestation: a PEM file of root certificates, or a directory of *.pem/*.crt
    # files, that the operator installs (e.g. the roots of the security-key vendors the site accepts).
    # A credential whose attestation chains to one of them (formats packed, tpm, android-key, apple,
    # fido-u2f) and is not synced may claim amr "hwk" and acr "phrh"; every other credential is
    # "swk"/"phr". Empty: no anchor, so no WebAuthn credential is hardware level.
    "WEBAUTHN_ATTESTATION_ROOTS": "",
    # A FIDO Metadata Service (MDS3) BLOB file the operator downloads from
    # https://mds3.fidoalliance.org/ (never fetched at run time); empty: none. Its entries add the
    # attestation roots of each listed authenticator model, and a model reported revoked or
    # compromised, or whose keys are not hardware-protected, never reaches hardware level.
    "WEBAUTHN_MDS_BLOB": "",
    # The PEM root certificate(s) the BLOB's signing chain must lead to (for FIDO's BLOB: GlobalSign
    # Root CA - R3, https://secure.globalsign.com/cacert/root-r3.crt, converted to PEM).
    "WEBAUTHN_MDS_ROOTS": "",
    # The DNS name (subjectAltName, or CN) the BLOB's signing certificate must carry: the root above
    # also issues certificates to unrelated sites. Empty: any certificate under the root.
    "WEBAUTHN_MDS_SIGNER": "mds.fidoalliance.org",
    # --- password guessing (mfa_oauth.throttle; docs/security.md "Password guessing") ---------------
    # Wrong passwords for one account (the user name as typed, normalised) before its password
    # logins wait; None or 0 turns the per-account throttle off.
    "LOGIN_THROTTLE_ACCOUNT_FREE_FAILURES": 5,
    # Wrong passwords from one client IP (an IPv6 client: its /64, see below), for any account,
    # before that IP's password logins wait. Higher than per account: offices and mobile
    # carriers put many people behind one address. None or 0 turns the per-IP throttle off.
    "LOGIN_THROTTLE_IP_FREE_FAILURES": 50,
    # Seconds of the first wait; every further failure doubles it, up to the maximum. The waits
    # are 1, 2, 4 ... 32, 60, 60 ... minutes with these defaults (NIST SP 800-63B-4 §3.2.2's
    # example: "30 seconds up to an hour"). Never a permanent lock.
    "LOGIN_THROTTLE_BASE_DELAY": 60,
    "LOGIN_THROTTLE_MAX_DELAY": 3600,
    # Seconds after its last counted failure at which an account's count is forgotten (a
    # successful password login forgets it at once).
    "LOGIN_THROTTLE_FORGET_AFTER": 24 * 3600,
    # Seconds an IP's count lasts from its first failure: the free failures are a budget per
    # period, so the typos of a busy shared address never add up to a standing lock-out.
    "LOGIN_THROTTLE_IP_PERIOD": 3600,
    # Prefix length an IPv6 client is counted by: one subscriber usually holds a whole /64.
    "LOGIN_THROTTLE_IPV6_PREFIX": 64,
    # The Django cache alias the counters live in. It must be shared by every web process and
    # node (Redis in production; system checks mfa_oauth.E021 / W021).
    "LOGIN_THROTTLE_CACHE": "default",
    # --- client IP (mfa_oauth.client_ip: throttles, SMS limits, audit rows, notifications) ---
    # Addresses or networks (CIDR) of the reverse proxies in front of the site. Empty: the
    # client is REMOTE_ADDR and X-Forwarded-For is ignored (it can be forged). Set: when
    # REMOTE_ADDR is one of them, the client is the right-most X-Forwarded-For entry that is
    # not, e.g. ["10.0.0.0/8"] for a load balancer on the private network.
    "TRUSTED_PROXIES": (),
    # --- OTP seeds at rest (mfa_oauth.seeds; docs/security.md "OTP seeds at rest") --------------------
    # Keys that encrypt the TOTP/HOTP/OATH seeds in the database: a list of secrets of at least 32
    # characters (e.g. secrets.token_urlsafe(32)); the first encrypts, every one decrypts. To
    # rotate: put the new key first, deploy, run `manage.py mfa_rotate_seeds`, then drop the old
    # key. Empty: keys derived from SECRET_KEY (and SECRET_KEY_FALLBACKS), for development only;
    # system check mfa_oauth.E050 is an error when DEBUG is off or under `check --deploy`.
    "SEED_KEYS": (),
    # --- second-factor lockout windows (docs/security.md, "Second-factor lockout") ----------------------
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
    # --- OIDC claims and subject identifiers (mfa_oauth.oauth.claims, .subject; docs/claims.md) -------
    # Dotted path to ``fn(user) -> dict``: the user's standard claims (OIDC Core §5.1), released
    # by scope (§5.4) and the ``claims`` parameter (§5.5). The default maps django.contrib.auth's
    # User fields; phone_number_verified is always decided by mfa_oauth (a confirmed SMS factor).
    "USER_CLAIMS": "mfa_oauth.oauth.claims.default_user_claims",
    # Whether the default mapping says email_verified true: False (the default: Django's User
    # does not record a verification), True (every address was verified by the project), or a
    # dotted path to ``fn(user) -> bool``.
    "EMAIL_VERIFIED": False,
    # The secret key of pairwise subject identifiers (OIDC Core §8.1), at least 32 characters.
    # Empty: derived from SECRET_KEY, so rotating SECRET_KEY would change every pairwise sub;
    # set it in production and never change it (system check mfa_oauth.E090).
    "PAIRWISE_SUBJECT_KEY": "",
    # Seconds to wait for a client's sector identifier document when its policy is saved.
    "SECTOR_IDENTIFIER_TIMEOUT": 5.0,
    # Development and tests only: accept an http sector identifier URI on a loopback host.
    "SECTOR_IDENTIFIER_ALLOW_LOOPBACK_HTTP": False,
    # --- extending (mfa_oauth.adapter; docs/extending.md) ---------------------------------------
    # Dotted path of the project's adapter: a subclass of mfa_oauth.adapter.DefaultMFAOAuthAdapter.
    "ADAPTER": "mfa_oauth.adapter.DefaultMFAOAuthAdapter",
    # Form swaps: {"challenge" | "rename" | "login" | "totp_confirm" | "sms_number" | "sms_code":
    # "dotted.path.Form"}; each should subclass the default.
    "FORMS": {},
    # --- response headers (mfa_oauth.middleware.SecurityHeadersMiddleware) ------------------------
    # The Content-Security-Policy of every page; None: the package's strict policy
    # (mfa_oauth.middleware.DEFAULT_CSP); "": no header. Replaces the MFA_OAUTH_CSP setting.
    "CSP": None,
    # --- security notifications (mfa_oauth.notifications) ----------------------------------------
    # ENABLED (bool), SITE_NAME (shown in subject and body), RECIPIENTS (dotted path to
    # f(user) -> list[str]; default: the user's email; NIST SP 800-63B-4 §4.6 asks for two addresses
    # where a site has them). Keys not given keep these defaults. Replaces MFA_OAUTH_NOTIFICATIONS.
    "NOTIFICATIONS": {"ENABLED": True, "SITE_NAME": "mfa_oauth", "RECIPIENTS": ""},
    # --- per-device back-off (django-otp's ThrottlingMixin: seconds, doubling per failure) --------
    # For the package's SHA-1/256/512 TOTP tokens, SMS devices and backup codes; 0 turns the back-off
    # off (the lockout of MAX_FAILED_ATTEMPTS still holds). TOTP_THROTTLE_FACTOR, when not set here,
    # follows django-otp's own OTP_TOTP_THROTTLE_FACTOR, so both kinds of TOTP device back off alike.
    "TOTP_THROTTLE_FACTOR": 1,
    "SMS_THROTTLE_FACTOR": 1,
    "BACKUP_CODE_THROTTLE_FACTOR": 1,
    # --- FAPI 2.0: PAR, private_key_jwt (mfa_oauth.par, mfa_oauth.client_auth; docs/fapi.md) -------------
    # Every client must push its authorization requests (RFC 9126 §5, metadata
    # require_pushed_authorization_requests); False: only the clients whose profile says so.
    "REQUIRE_PUSHED_AUTHORIZATION_REQUESTS": False,
    # Seconds a request_uri may wait for the browser (RFC 9126 §2.2; at most 60 here).
    "PAR_LIFETIME": 60,
    # JWS algorithms accepted for client assertions (RFC 7523 §3; FAPI 2.0 §5.4: PS256, ES256, EdDSA).
    "CLIENT_ASSERTION_ALGORITHMS": ("PS256", "ES256", "EdDSA"),
    # Longest lifetime (exp - now, seconds) of a client assertion; longer ones are refused.
    "CLIENT_ASSERTION_MAX_LIFETIME": 300,
    # Seconds of clock skew allowed on exp/nbf/iat of assertions.
    "CLIENT_ASSERTION_LEEWAY": 30,
    # JWS algorithms accepted for signed request objects at the PAR endpoint (RFC 9101 §6.2,
    # RFC 9126 §3; never none or HMAC), and their longest lifetime (exp - now and exp - nbf, seconds;
    # FAPI 2.0 Message Signing §5.3.1 allows at most 3600). The assertion leeway applies to them too.
    "REQUEST_OBJECT_ALGORITHMS": ("PS256", "ES256", "EdDSA"),
    "REQUEST_OBJECT_MAX_LIFETIME": 600,
    # jwks_uri fetching: timeout (seconds), largest document (bytes), seconds a fetched set is cached.
    "JWKS_URI_TIMEOUT": 5.0,
    "JWKS_URI_MAX_BYTES": 64 * 1024,
    "JWKS_URI_CACHE_SECONDS": 300,
    # The Django cache alias that remembers used jti values (assertions, DPoP proofs) and fetched
    # key sets. It must be shared by every web node (Redis in production), like LOGIN_THROTTLE_CACHE.
    "REPLAY_CACHE": "default",
    # --- DPoP (mfa_oauth.dpop, RFC 9449; docs/fapi.md) -----------------------------------------------
    # JWS algorithms accepted for DPoP proofs (FAPI 2.0 §5.4 list).
    "DPOP_ALGORITHMS": ("PS256", "ES256", "EdDSA"),
    # Seconds a proof's iat may be away from now (RFC 9449 §11.1: a short window).
    "DPOP_IAT_WINDOW": 60,
    # Whether proofs must carry a nonce this server gave out in DPoP-Nonce (RFC 9449 §8), and how
    # many seconds one nonce window lasts (a nonce is accepted in its window and the next).
    "DPOP_NONCE_REQUIRED": False,
    "DPOP_NONCE_LIFETIME": 300,
    # --- id_token signing (mfa_oauth.oauth.signing; docs/fapi.md) ------------------------------------
    # Site keys for id_token algorithms beyond DOT's RS256 (OIDC_RSA_PRIVATE_KEY, which keeps signing RS256):
    # a list of {"alg": "PS256" | "ES256" | "EdDSA", "kid": "...", "key": "<PEM private key>"} (RSA of at
    # least 2048 bits, EC P-256, Ed25519; FAPI 2.0 §5.4.1). Without a kid, the key's JWK thumbprint;
    # "active": False keeps a retired key in the JWKS without signing with it. Clients choose with
    # id_token_signed_response_alg; FAPI 2.0 clients that chose none get the first PS256/ES256/EdDSA key.
    "ID_TOKEN_SIGNING_KEYS": (),
}

MAX_FAILED_ATTEMPTS_CEILING = 100


# Settings that moved under MFA_OAUTH: the old top-level name is still read while the MFA_OAUTH key
# is not set, and system check mfa_oauth.W121 asks to move it.
DEPRECATED_ALIASES: dict[str, str] = {
    "CSP": "MFA_OAUTH_CSP",
    "NOTIFICATIONS": "MFA_OAUTH_NOTIFICATIONS",
    "SMS_THROTTLE_FACTOR": "OTP_SMS_THROTTLE_FACTOR",
    "BACKUP_CODE_THROTTLE_FACTOR": "OTP_BACKUP_CODE_THROTTLE_FACTOR",
}
# Not deprecated: django-otp's own setting, which our TOTP tokens follow unless MFA_OAUTH sets theirs.
FOLLOWS: dict[str, str] = {"TOTP_THROTTLE_FACTOR": "OTP_TOTP_THROTTLE_FACTOR"}


def overrides() -> dict[str, Any]:
    """The project's ``MFA_OAUTH`` dict (empty when it has none)."""
    value = getattr(django_settings, "MFA_OAUTH", {}) or {}
    return value if isinstance(value, dict) else {}


def is_set(name: str) -> bool:
    """Whether the project chose ``name`` (under MFA_OAUTH or through its old top-level alias)."""
    legacy = DEPRECATED_ALIASES.get(name) or FOLLOWS.get(name)
    return name in overrides() or (legacy is not None and hasattr(django_settings, legacy))


class Settings:
    def __getattr__(self, name: str) -> Any:
        if name not in DEFAULTS:
            raise AttributeError(f"Unknown mfa_oauth setting {name!r}")
        project = overrides()
        legacy = DEPRECATED_ALIASES.get(name) or FOLLOWS.get(name)
        if name in project:
            value = project[name]
        elif legacy is not None and hasattr(django_settings, legacy):
            value = getattr(django_settings, legacy)
        else:
            value = DEFAULTS[name]
        if name == "MAX_FAILED_ATTEMPTS":
            value = max(1, min(int(value), MAX_FAILED_ATTEMPTS_CEILING))
        elif name == "NOTIFICATIONS":
            value = {**DEFAULTS["NOTIFICATIONS"], **(value or {})}
        return value


settings = Settings()
