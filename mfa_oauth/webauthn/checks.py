"""System checks for a WebAuthn configuration browsers would refuse or that would weaken the checks."""

from __future__ import annotations

import datetime
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.checks import CheckMessage, Error, Warning, register

from ..conf import settings as mfa_settings
from .certificates import CertificateFileError, read_anchors
from .config import USER_VERIFICATION_CHOICES, host_matches_rp_id, is_ip_address
from .mds import MetadataError
from .trust import load_blob


@register()
def check_webauthn_settings(app_configs: Any, **kwargs: Any) -> list[CheckMessage]:
    rp = str(mfa_settings.WEBAUTHN_RP_ID or "")
    return [*_check_rp_id(rp), *_check_origins(rp), *_check_development_and_verification()]


def _check_rp_id(rp: str) -> list[CheckMessage]:
    if not rp or is_ip_address(rp) or "/" in rp or ":" in rp:
        return [
            Error(
                f"MFA_OAUTH['WEBAUTHN_RP_ID'] = {rp!r} is not a domain name.",
                hint="Browsers accept only a domain (e.g. 'id.example.com' or 'localhost'), never an IP address.",
                id="mfa_oauth_webauthn.E001",
            )
        ]
    return []


def _check_origins(rp: str) -> list[CheckMessage]:
    origins = mfa_settings.WEBAUTHN_ORIGINS
    origins = [origins] if isinstance(origins, str) else list(origins or [])
    messages: list[CheckMessage] = []
    if not origins and not mfa_settings.WEBAUTHN_TRUST_REQUEST_ORIGIN:
        messages.append(
            Error(
                "MFA_OAUTH['WEBAUTHN_ORIGINS'] is empty: no WebAuthn response can ever be accepted.",
                hint="List the site's exact origins, e.g. ['https://id.example.com'].",
                id="mfa_oauth_webauthn.E002",
            )
        )
    for origin in origins:
        messages.extend(_check_origin(origin, rp))
    return messages


def _check_origin(origin: str, rp: str) -> list[CheckMessage]:
    """One origin of WEBAUTHN_ORIGINS: its form, its host under the RP ID, https (WebAuthn L2 §5.1.3)."""
    parts = urlsplit(origin)
    hostname = parts.hostname or ""
    if parts.scheme not in ("https", "http") or not hostname or parts.path not in ("", "/"):
        return [Error(f"WebAuthn origin {origin!r} is not scheme://host[:port].", id="mfa_oauth_webauthn.E003")]
    if rp and not host_matches_rp_id(hostname, rp):
        return [
            Error(
                f"WebAuthn origin {origin!r} is not on the RP ID {rp!r} or one of its subdomains.",
                id="mfa_oauth_webauthn.E004",
            )
        ]
    if parts.scheme == "http" and hostname != "localhost" and not hostname.endswith(".localhost"):
        return [
            Warning(
                f"WebAuthn origin {origin!r} is plain http; browsers allow WebAuthn over http only on localhost.",
                id="mfa_oauth_webauthn.W002",
            )
        ]
    return []


def _check_development_and_verification() -> list[CheckMessage]:
    messages: list[CheckMessage] = []
    if mfa_settings.WEBAUTHN_TRUST_REQUEST_ORIGIN and not settings.DEBUG:
        messages.append(
            Warning(
                "MFA_OAUTH['WEBAUTHN_TRUST_REQUEST_ORIGIN'] is on with DEBUG off.",
                hint="It is for development servers on changing ports; list exact origins in WEBAUTHN_ORIGINS.",
                id="mfa_oauth_webauthn.W001",
            )
        )
    if mfa_settings.WEBAUTHN_USER_VERIFICATION not in USER_VERIFICATION_CHOICES:
        messages.append(
            Error(
                f"MFA_OAUTH['WEBAUTHN_USER_VERIFICATION'] must be one of {USER_VERIFICATION_CHOICES}.",
                id="mfa_oauth_webauthn.E005",
            )
        )
    return messages


@register()
def check_attestation_trust(app_configs: Any, **kwargs: Any) -> list[CheckMessage]:
    """The operator's attestation anchors and MDS BLOB (trust.py): a configured source that cannot be
    used would silently make every key a software key, so it is an error (docs/security.md)."""
    messages: list[CheckMessage] = []
    roots = str(mfa_settings.WEBAUTHN_ATTESTATION_ROOTS or "")
    if roots:
        try:
            read_anchors(roots)
        except CertificateFileError as error:
            messages.append(
                Error(
                    f"MFA_OAUTH['WEBAUTHN_ATTESTATION_ROOTS']: {error}.",
                    hint="Name a PEM file of root certificates, or a directory of *.pem/*.crt files.",
                    id="mfa_oauth_webauthn.E006",
                )
            )
    if not mfa_settings.WEBAUTHN_MDS_BLOB:
        return messages
    mds_roots = str(mfa_settings.WEBAUTHN_MDS_ROOTS or "")
    try:
        if not mds_roots:
            raise CertificateFileError("not set")
        read_anchors(mds_roots)
    except CertificateFileError as error:
        messages.append(
            Error(
                f"MFA_OAUTH['WEBAUTHN_MDS_ROOTS']: {error}; the MDS BLOB's signature cannot be verified.",
                hint="Name the PEM file of the root that signs the BLOB (FIDO: GlobalSign Root CA - R3).",
                id="mfa_oauth_webauthn.E007",
            )
        )
        return messages
    try:
        blob = load_blob()
    except MetadataError as error:
        messages.append(
            Error(
                f"MFA_OAUTH['WEBAUTHN_MDS_BLOB'] cannot be used: {error}.",
                hint="Download the BLOB again from https://mds3.fidoalliance.org/ (it is never fetched at run time).",
                id="mfa_oauth_webauthn.E008",
            )
        )
        return messages
    if blob.next_update is not None and blob.next_update < datetime.date.today():
        messages.append(
            Warning(
                f"The MDS BLOB (number {blob.number}) was due to be replaced on {blob.next_update.isoformat()}.",
                hint="Download a fresh BLOB: revocations published since are not known to this site.",
                id="mfa_oauth_webauthn.W003",
            )
        )
    return messages
