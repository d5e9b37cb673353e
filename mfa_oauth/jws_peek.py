"""A compact JWS's payload read WITHOUT verifying it: only to find out whose keys verify it.

Shared by client authentication (``mfa_oauth.client_auth``: which client's JWKS verifies an assertion)
and the FAPI 2.0 profile's DPoP pre-check (``mfa_oauth.fapi.profile``: which client asks), so neither
imports the other. Every claim is checked again after verification (RFC 7523 §3).
"""

from __future__ import annotations

import base64
import json


def unverified_payload(token: str) -> dict:
    """The JSON object in the payload of compact JWS ``token``; ValueError when it is not one."""
    parts = token.split(".")
    if len(parts) != 3:
        raise ValueError("not a compact JWS")
    try:
        payload = json.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
    except (ValueError, TypeError) as error:
        raise ValueError("payload is not JSON") from error
    if not isinstance(payload, dict):
        raise ValueError("payload is not a JSON object")
    return payload


def unverified_header(token: str) -> dict:
    """The JOSE header of compact JWS ``token`` (to pick the algorithm and ``typ`` rules before verifying)."""
    encoded = token.split(".")[0]
    try:
        header = json.loads(base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4)))
    except (ValueError, TypeError) as error:
        raise ValueError("header is not JSON") from error
    if not isinstance(header, dict):
        raise ValueError("header is not a JSON object")
    return header
