"""The public keys of a client: its inline JWK Set or the one its ``jwks_uri`` serves.

A ``jwks_uri`` is fetched with a timeout and a size limit (``JWKS_URI_TIMEOUT``, ``JWKS_URI_MAX_BYTES``)
and the set is cached in the shared ``REPLAY_CACHE`` for ``JWKS_URI_CACHE_SECONDS``, so an assertion
costs no HTTP request most of the time and a slow or huge key server cannot hold a worker. Plain
``http`` is only fetched from a loopback host (development and tests); OIDC Core §10.1.1 has clients
publish keys over TLS.
"""

from __future__ import annotations

import hashlib
import ipaddress
import json
from urllib.parse import urlsplit

import requests
from django.core.cache import caches
from jwcrypto.common import JWException
from jwcrypto.jwk import JWKSet

from ..conf import settings as mfa_settings


class KeysUnavailable(Exception):
    """The client's keys cannot be had (none registered, fetch failed, not a JWK Set)."""


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _parse(document: str) -> JWKSet:
    try:
        keyset = JWKSet.from_json(document)
    except (JWException, ValueError, TypeError) as error:
        raise KeysUnavailable(f"not a JWK Set: {error}") from error
    if any(key.has_private for key in keyset["keys"]):
        raise KeysUnavailable("the JWK Set contains a private key")
    return keyset


def fetch(uri: str) -> str:
    """The body of ``uri``, at most ``JWKS_URI_MAX_BYTES``, within ``JWKS_URI_TIMEOUT`` per read."""
    parts = urlsplit(uri)
    if parts.scheme != "https" and not (parts.scheme == "http" and _is_loopback(parts.hostname or "")):
        raise KeysUnavailable("jwks_uri must be https")
    limit = int(mfa_settings.JWKS_URI_MAX_BYTES)
    try:
        with requests.get(
            uri, timeout=float(mfa_settings.JWKS_URI_TIMEOUT), stream=True, allow_redirects=False
        ) as response:
            if response.status_code != 200:
                raise KeysUnavailable(f"jwks_uri answered {response.status_code}")
            body = b""
            for chunk in response.iter_content(8192):
                body += chunk
                if len(body) > limit:
                    raise KeysUnavailable(f"jwks_uri document larger than {limit} bytes")
    except requests.RequestException as error:
        raise KeysUnavailable(f"jwks_uri could not be fetched: {type(error).__name__}") from error
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError as error:
        raise KeysUnavailable("jwks_uri document is not UTF-8") from error


def keyset_for(profile) -> JWKSet:
    """The client's public keys (see the module docstring)."""
    if profile.jwks:
        return _parse(json.dumps(profile.jwks))
    if not profile.jwks_uri:
        raise KeysUnavailable("no keys registered")
    cache = caches[mfa_settings.REPLAY_CACHE]
    cache_key = "mfa_oauth:jwks:" + hashlib.sha256(profile.jwks_uri.encode()).hexdigest()
    document = cache.get(cache_key)
    if document is None:
        document = fetch(profile.jwks_uri)
        keyset = _parse(document)  # only a valid set is cached
        cache.set(cache_key, document, timeout=int(mfa_settings.JWKS_URI_CACHE_SECONDS))
        return keyset
    return _parse(document)
