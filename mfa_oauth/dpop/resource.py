"""DPoP at a protected resource (RFC 9449 §7): ``mfa_oauth.resource``'s decorator and DRF permission,
and the userinfo endpoint.

- ``Authorization: DPoP <token>`` with a ``DPoP`` proof for this request, signed by the key the token
  is bound to, whose ``ath`` is the token's hash;
- a DPoP-bound token presented as ``Bearer`` is refused (§7.2: that is the stolen-token case);
- refusals are ``WWW-Authenticate: DPoP`` challenges (§7.1) with ``algs``; the step-up (RFC 9470)
  and scope challenges of a DPoP-bound token use the DPoP scheme with the same parameters.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from oauth2_provider.utils import parse_bearer_token

from ..conf import settings as mfa_settings
from . import DPoPError, current_nonce, proof_of_request


@dataclass(frozen=True)
class DPoPRefusal:
    error: str
    description: str
    challenge: str
    nonce: str | None = None


def dpop_challenge(error: str | None = None, description: str = "") -> str:
    """RFC 9449 §7.1 ``WWW-Authenticate: DPoP`` with ``algs``."""
    parts = []
    if error:
        parts.append(f'error="{error}"')
        if description:
            parts.append('error_description="{}"'.format(description.replace("\\", "\\\\").replace('"', '\\"')))
    parts.append('algs="{}"'.format(" ".join(mfa_settings.DPOP_ALGORITHMS)))
    return "DPoP " + ", ".join(parts)


def offer_dpop(bearer: str) -> str:
    """A request that carries no token hears every scheme this resource accepts (RFC 9449 §7.1 and
    §7.2: ``Bearer, DPoP algs="…"``), neither with an error code (RFC 6750 §3.1). One header field with
    two challenges (RFC 9110 §11.6.1): Django keeps one value per header name."""
    algs = " ".join(mfa_settings.DPOP_ALGORITHMS)
    return f'{bearer}, DPoP algs="{algs}"' if algs else bearer


def token_of(authorization: str) -> tuple[bool, str | None]:
    """(whether the DPoP scheme was used, the token) of an Authorization header."""
    scheme, _, credentials = authorization.strip().partition(" ")
    if scheme.lower() == "dpop":
        token = credentials.strip()
        return True, token if token and " " not in token else None
    return False, parse_bearer_token(authorization)


def check(info, token: str, dpop_scheme: bool, http_request) -> DPoPRefusal | None:
    """None when the token may be used as presented (see the module docstring)."""
    if not info.jkt and not dpop_scheme:
        return None  # a bearer token used as one
    if info.jkt and not dpop_scheme:
        description = "The access token is bound to a DPoP key: present it with the DPoP scheme and a proof"
        return DPoPRefusal("invalid_token", description, dpop_challenge("invalid_token", description))
    if not info.jkt:
        description = "The access token is not bound to a DPoP key"
        return DPoPRefusal("invalid_token", description, dpop_challenge("invalid_token", description))
    if http_request is None:
        description = "The DPoP proof cannot be checked here"
        return DPoPRefusal("invalid_dpop_proof", description, dpop_challenge("invalid_dpop_proof", description))
    try:
        jkt = proof_of_request(http_request, access_token=token)
        if jkt is None:
            raise DPoPError("A DPoP proof is required with a DPoP-bound access token")
        if jkt != info.jkt:
            raise DPoPError("The DPoP proof is signed by another key than the token is bound to")
    except DPoPError as error:
        nonce = current_nonce() if error.error == "use_dpop_nonce" or mfa_settings.DPOP_NONCE_REQUIRED else None
        return DPoPRefusal(error.error, error.description, dpop_challenge(error.error, error.description), nonce)
    return None


def as_dpop_challenge(info, refusal):
    """The scope and step-up challenges of a DPoP-bound token, in the DPoP scheme (RFC 9449 §7.1)."""
    if refusal is None or info is None or not info.jkt or not refusal.www_authenticate:
        return refusal
    header = refusal.www_authenticate
    if header.startswith("Bearer"):
        params = header[len("Bearer") :].strip()
        algs = 'algs="{}"'.format(" ".join(mfa_settings.DPOP_ALGORITHMS))
        header = f"DPoP {params}, {algs}" if params else f"DPoP {algs}"
        return replace(refusal, www_authenticate=header)
    return refusal
