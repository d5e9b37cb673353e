"""Subject identifiers (``sub``): public, or pairwise per sector (OIDC Core §8, §8.1).

A client's :class:`~mfa_oauth.models.ClientPolicy` says which type it gets (``public`` without a
policy). ``public``: the user's primary key, as DOT has always issued it. ``pairwise``: a keyed hash
of the client's *sector identifier* and the user's primary key, so clients of different sectors
cannot correlate their users by ``sub``, while every client of one sector sees the same value.

The same function answers for the id_token, userinfo, introspection and the ``sub`` a request
names (the ``claims`` parameter's ``sub`` value), so they always agree (docs/claims.md).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any
from urllib.parse import urlparse

import requests
from django.conf import settings as django_settings
from django.core.exceptions import ObjectDoesNotExist, ValidationError
from django.utils.encoding import force_bytes
from django.utils.translation import gettext as _

from ..conf import settings as mfa_settings

SUBJECT_PUBLIC = "public"
SUBJECT_PAIRWISE = "pairwise"
SUBJECT_TYPES = (SUBJECT_PUBLIC, SUBJECT_PAIRWISE)
# Derivation label: a key given in MFA_OAUTH["PAIRWISE_SUBJECT_KEY"] (or SECRET_KEY) is never used
# for anything but this hash.
_LABEL = b"mfa_oauth.pairwise-subject.v1"
# A sector identifier document is a short JSON array of redirect URIs (OIDC Registration §5).
_SECTOR_DOCUMENT_MAX_BYTES = 64 * 1024


def _policy_of(application) -> Any:
    try:
        return application.mfa_policy
    except (ObjectDoesNotExist, AttributeError):  # no policy row: the public default
        return None


def subject_type_of(application) -> str:
    policy = _policy_of(application) if application is not None else None
    value = getattr(policy, "subject_type", "") or SUBJECT_PUBLIC
    return value if value in SUBJECT_TYPES else SUBJECT_PUBLIC


def sector_identifier_of(application, sector_identifier_uri: str | None = None) -> str:
    """OIDC Core §8.1: the host of the sector identifier URI, or else the host of the redirect URIs.

    Without a sector identifier URI the client must have one redirect host (§8.1: with several,
    the client MUST register a sector_identifier_uri; ``ClientPolicy.clean`` refuses it). A policy
    saved without that check still gets a deterministic value: the sorted hosts, or the client id
    for a client with no redirect URI (device flow, client credentials)."""
    if sector_identifier_uri is None:
        sector_identifier_uri = getattr(_policy_of(application), "sector_identifier_uri", "") or ""
    if sector_identifier_uri:
        return (urlparse(sector_identifier_uri).hostname or "").lower()
    hosts = redirect_hosts(application)
    if hosts:
        return " ".join(sorted(hosts))
    return f"client:{application.client_id}"


def redirect_hosts(application) -> set[str]:
    return {(urlparse(uri).hostname or "").lower() for uri in (application.redirect_uris or "").split()}


def pairwise_key() -> bytes:
    """``MFA_OAUTH["PAIRWISE_SUBJECT_KEY"]``, or a key derived from SECRET_KEY when it is empty.

    The derived key changes with SECRET_KEY (and so would every pairwise ``sub``): production sets
    its own key and never rotates it (docs/claims.md)."""
    configured = mfa_settings.PAIRWISE_SUBJECT_KEY
    if configured:
        return force_bytes(configured)
    return hmac.new(force_bytes(django_settings.SECRET_KEY), _LABEL + b".key", hashlib.sha256).digest()


def pairwise_subject(sector: str, local_id: Any) -> str:
    # OIDC Core §8.1: a value that is not reversible by any party other than the OP; HMAC-SHA-256
    # under a secret key (a plain hash of a small integer id could be brute-forced). Base64url
    # without padding: 43 ASCII characters (§2: at most 255).
    message = _LABEL + b"\x00" + sector.encode() + b"\x00" + str(local_id).encode()
    digest = hmac.new(pairwise_key(), message, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def subject_identifier(user, application) -> str:
    """The ``sub`` the client ``application`` knows ``user`` by (a user object or a primary key)."""
    local_id = getattr(user, "pk", user)
    if application is None or subject_type_of(application) != SUBJECT_PAIRWISE:
        return str(local_id)
    return pairwise_subject(sector_identifier_of(application), local_id)


# --- sector identifier URI (OIDC Core §8.1, OIDC Registration §5) ----------------------------------


def _loopback(host: str) -> bool:
    return host in ("localhost", "127.0.0.1", "::1")


def check_sector_identifier_uri(uri: str, redirect_uris: list[str]) -> None:
    """Fetch the sector identifier document and check that it lists every redirect URI.

    OIDC Registration §5: the URI uses https, its document is a JSON array of redirect URIs, and
    "the values registered in redirect_uris MUST be included in the elements of the array". Fetched
    once, when the policy is saved from a form (never while answering a token request), with a
    timeout, a size cap and no redirects followed. Raises ``ValidationError`` with the reason."""
    parsed = urlparse(uri)
    host = (parsed.hostname or "").lower()
    plain_loopback = parsed.scheme == "http" and _loopback(host) and mfa_settings.SECTOR_IDENTIFIER_ALLOW_LOOPBACK_HTTP
    if parsed.scheme != "https" and not plain_loopback:
        raise ValidationError(_("The sector identifier URI must use https."), code="scheme")
    if not host:
        raise ValidationError(_("The sector identifier URI has no host."), code="host")
    try:
        with requests.get(
            uri,
            timeout=mfa_settings.SECTOR_IDENTIFIER_TIMEOUT,
            allow_redirects=False,
            stream=True,
            headers={"Accept": "application/json"},
        ) as response:
            if response.status_code != 200:
                raise ValidationError(
                    _("The sector identifier URI answered HTTP %(status)s, not 200."),
                    code="status",
                    params={"status": response.status_code},
                )
            body = response.raw.read(_SECTOR_DOCUMENT_MAX_BYTES + 1, decode_content=True)
    except requests.RequestException as error:
        raise ValidationError(
            _("The sector identifier URI could not be fetched: %(reason)s"),
            code="fetch",
            params={"reason": type(error).__name__},
        ) from None
    if len(body) > _SECTOR_DOCUMENT_MAX_BYTES:
        raise ValidationError(_("The sector identifier document is too large."), code="size")
    try:
        listed = json.loads(body)
    except ValueError:
        listed = None
    if not isinstance(listed, list) or not all(isinstance(item, str) for item in listed):
        raise ValidationError(_("The sector identifier document must be a JSON array of URIs."), code="format")
    missing = [u for u in redirect_uris if u not in listed]
    if missing:
        raise ValidationError(
            _("The sector identifier document does not list these redirect URIs: %(missing)s"),
            code="missing",
            params={"missing": " ".join(missing)},
        )
