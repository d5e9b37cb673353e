"""The relying party's identity: RP ID, name and the exact origins it accepts (from MFA_OAUTH)."""

from __future__ import annotations

import ipaddress

from django.http import HttpRequest

from ..conf import settings as mfa_settings

USER_VERIFICATION_CHOICES = ("required", "preferred")


def rp_id() -> str:
    return str(mfa_settings.WEBAUTHN_RP_ID)


def rp_name() -> str:
    return str(mfa_settings.WEBAUTHN_RP_NAME)


def expected_origins(request: HttpRequest) -> list[str]:
    """The origins an assertion or attestation may name in its clientDataJSON: exact strings."""
    configured = mfa_settings.WEBAUTHN_ORIGINS
    origins = [configured] if isinstance(configured, str) else list(configured or [])
    if mfa_settings.WEBAUTHN_TRUST_REQUEST_ORIGIN:
        # Development only (a system check warns): Host was vetted by ALLOWED_HOSTS.
        own = f"{request.scheme}://{request.get_host()}"
        if own not in origins:
            origins.append(own)
    return origins


def host_matches_rp_id(host: str, rp: str | None = None) -> bool:
    """Can a page on ``host`` use credentials of the RP ID? (WebAuthn L2 §5.1.3 / §13.4.9)."""
    rp = rp or rp_id()
    hostname = host.rsplit(":", 1)[0] if not host.endswith("]") else host
    hostname = hostname.lower().rstrip(".")
    return hostname == rp or hostname.endswith("." + rp)


def is_ip_address(value: str) -> bool:
    try:
        ipaddress.ip_address(value.strip("[]"))
    except ValueError:
        return False
    return True


def user_verification_required(level: int = 0) -> bool:
    """Whether an assertion must carry UV: by setting, or because the request asks for ``phrh``."""
    from ..context import LEVEL_PHISHING_RESISTANT_HARDWARE

    return mfa_settings.WEBAUTHN_USER_VERIFICATION == "required" or level >= LEVEL_PHISHING_RESISTANT_HARDWARE


def algorithms() -> list[int]:
    return [int(a) for a in mfa_settings.WEBAUTHN_ALGORITHMS]


def challenge_timeout() -> int:
    return max(30, int(mfa_settings.WEBAUTHN_CHALLENGE_TIMEOUT))
