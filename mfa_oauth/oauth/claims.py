"""Standard claims (OIDC Core §5.1) by scope (§5.4) and the ``claims`` request parameter (§5.5).

- :func:`user_claims` is the single place a user's claims come from: the project's hook
  ``MFA_OAUTH["USER_CLAIMS"]`` (``fn(user) -> dict``; :func:`default_user_claims` maps
  django.contrib.auth's User), then ``phone_number_verified`` decided here: true only for a number
  the user confirmed as an SMS factor.
- :func:`parse_claims_parameter` validates the ``claims`` parameter; a malformed one is refused
  with ``invalid_request`` at the authorization endpoint (the gate, :mod:`mfa_oauth.policy`). The
  normalised request is stored on the code's :class:`~mfa_oauth.models.AuthenticationRecord`, so
  the token endpoint, every refresh and userinfo answer what the user approved.
- :func:`release` decides what goes into an id_token or a userinfo answer: a claim is released
  only when a scope the user approved covers it (§5.4); the ``claims`` parameter can narrow that
  (``value``/``values``) but never widen it (§5.5.1: "the Authorization Server MUST NOT generate
  an error when Claims are not returned, whether they are Essential or Voluntary").
- :func:`discovery_claims_metadata` is what discovery says about claims and subject types.

docs/claims.md explains the choices.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from functools import lru_cache
from typing import Any

from django.apps import apps
from django.utils.module_loading import import_string

from ..conf import settings as mfa_settings
from .subject import SUBJECT_TYPES, subject_identifier

# OIDC Core §5.4: the claims each scope value requests.
SCOPE_CLAIMS: dict[str, tuple[str, ...]] = {
    "profile": (
        "name",
        "family_name",
        "given_name",
        "middle_name",
        "nickname",
        "preferred_username",
        "profile",
        "picture",
        "website",
        "gender",
        "birthdate",
        "zoneinfo",
        "locale",
        "updated_at",
    ),
    "email": ("email", "email_verified"),
    "address": ("address",),
    "phone": ("phone_number", "phone_number_verified"),
}
CLAIM_SCOPE: dict[str, str] = {claim: scope for scope, names in SCOPE_CLAIMS.items() for claim in names}
# The claims of every id_token this provider signs (OIDC Core §2, and acr/amr/auth_time from the
# authentication record).
ID_TOKEN_CLAIMS = ("iss", "sub", "aud", "exp", "iat", "auth_time", "nonce", "acr", "amr", "at_hash", "jti")
# Members of the claims parameter (§5.5); others "not understood MUST be ignored".
CLAIMS_MEMBERS = ("id_token", "userinfo")
# The claims parameter travels in the authorization URL and is stored with the grant: bounded.
MAX_CLAIMS_PARAMETER_LENGTH = 8192


class InvalidClaimsRequest(ValueError):
    """A ``claims`` parameter that is not what OIDC Core §5.5 defines (answered ``invalid_request``)."""


def parse_claims_parameter(raw: Any) -> dict[str, dict[str, dict[str, Any] | None]]:
    """The validated ``claims`` parameter: ``{"id_token": {...}, "userinfo": {...}}`` (members present only).

    OIDC Core §5.5: a JSON object whose ``id_token`` and ``userinfo`` members are objects naming
    claims; each claim is ``null`` (requested voluntarily) or an object whose ``essential`` is a
    boolean, ``values`` an array, and ``value`` any JSON value (§5.5.1). Unknown members and
    unknown claim names are ignored, as §5.5 and §5.5.1 say. ``None``, "" and ``"null"`` (what
    DOT's consent form posts for a request without claims) mean no claims requested."""
    if raw is None or raw == "":
        return {}
    if isinstance(raw, str):
        if len(raw) > MAX_CLAIMS_PARAMETER_LENGTH:
            raise InvalidClaimsRequest("claims is too long")
        try:
            parsed = json.loads(raw)
        except (ValueError, RecursionError):  # RecursionError: deeply nested arrays or objects
            raise InvalidClaimsRequest("claims must be a JSON object") from None
    else:
        parsed = raw
    if parsed is None:
        return {}
    if not isinstance(parsed, dict):
        raise InvalidClaimsRequest("claims must be a JSON object")
    normalised: dict[str, dict[str, dict[str, Any] | None]] = {}
    for member in CLAIMS_MEMBERS:
        if member not in parsed:
            continue
        section = parsed[member]
        if not isinstance(section, dict):
            raise InvalidClaimsRequest(f"claims.{member} must be a JSON object")
        entries: dict[str, dict[str, Any] | None] = {}
        for name, entry in section.items():
            if entry is None:
                entries[name] = None
                continue
            if not isinstance(entry, dict):
                raise InvalidClaimsRequest(f"claims.{member}.{name} must be null or a JSON object")
            if "essential" in entry and not isinstance(entry["essential"], bool):
                raise InvalidClaimsRequest(f"claims.{member}.{name}.essential must be true or false")
            if "values" in entry and not isinstance(entry["values"], list):
                raise InvalidClaimsRequest(f"claims.{member}.{name}.values must be a JSON array")
            entries[name] = {k: entry[k] for k in ("essential", "value", "values") if k in entry}
        normalised[member] = entries
    return normalised


def _wanted(entry: Mapping[str, Any] | None, actual: Any) -> bool:
    """§5.5.1: ``value``/``values`` ask for the claim "with a particular value" / one of a set; a
    claim whose value is another is left out rather than returned unasked (docs/claims.md)."""
    if not entry:
        return True
    if "value" in entry:
        return actual == entry["value"]
    if "values" in entry:
        return actual in entry["values"]
    return True


def requested_subjects(claims: Mapping[str, Any]) -> set[str] | None:
    """The ``sub`` values the claims parameter insists on (§5.5.1), or None when it names none."""
    wanted: set[str] | None = None
    for member in CLAIMS_MEMBERS:
        entry = (claims.get(member) or {}).get("sub")
        if not entry:
            continue
        values = [entry["value"]] if "value" in entry else entry.get("values")
        if values is None:
            continue
        these = {str(v) for v in values}
        wanted = these if wanted is None else wanted & these
    return wanted


def subject_matches(raw_claims: Any, user, application) -> bool:
    """OIDC Core §5.5.1: with a ``sub`` value requested, "the Authorization Server MUST only send a
    positive response if the End-User identified by that sub value" is the one signed in; the
    value is the pairwise or public ``sub`` that client knows (mfa_oauth.oauth.subject)."""
    try:
        claims = parse_claims_parameter(raw_claims)
    except InvalidClaimsRequest:
        return False  # the gate answers invalid_request before asking
    wanted = requested_subjects(claims)
    return wanted is None or subject_identifier(user, application) in wanted


# --- the user's claims ---------------------------------------------------------------------------


def _email_verified(user) -> bool:
    setting = mfa_settings.EMAIL_VERIFIED
    if isinstance(setting, str):
        return bool(_hook(setting)(user))
    return setting is True


def default_user_claims(user) -> dict[str, Any]:
    """``MFA_OAUTH["USER_CLAIMS"]``'s default: OIDC Core §5.1 claims from django.contrib.auth's User.

    ``email_verified`` is true only where the project says so (``MFA_OAUTH["EMAIL_VERIFIED"]``):
    Django records no verification. Empty fields are left out (§5.3.2: claims with no value
    SHOULD be omitted)."""
    claims: dict[str, Any] = {}
    username = user.get_username()
    if username:
        claims["preferred_username"] = username
    full_name = user.get_full_name() if hasattr(user, "get_full_name") else ""
    if full_name:
        claims["name"] = full_name
    if getattr(user, "first_name", ""):
        claims["given_name"] = user.first_name
    if getattr(user, "last_name", ""):
        claims["family_name"] = user.last_name
    email = getattr(user, "email", "")
    if email:
        claims["email"] = email
        claims["email_verified"] = _email_verified(user)
    return claims


# What the default mapping can ever supply (discovery's claims_supported must be truthful). A
# project's hook says the same with an attribute ``supported_claims``.
default_user_claims.supported_claims = (  # type: ignore[attr-defined]
    "preferred_username",
    "name",
    "given_name",
    "family_name",
    "email",
    "email_verified",
)


@lru_cache(maxsize=16)
def _hook(path: str) -> Callable[..., Any]:
    return import_string(path)


def user_claims_hook() -> Callable[[Any], dict[str, Any]]:
    setting = mfa_settings.USER_CLAIMS
    return _hook(setting) if isinstance(setting, str) else setting


def _sms_installed() -> bool:
    return apps.is_installed("mfa_oauth.sms")


def confirmed_sms_numbers(user) -> list[str]:
    """Numbers the user confirmed by typing back a code sent to them (``SMSDevice.confirmed``); an
    operator-assigned number still waiting for its first code is not one."""
    if not _sms_installed():
        return []
    from ..sms.models import SMSDevice

    return list(SMSDevice.objects.filter(user=user, confirmed=True).order_by("pk").values_list("number", flat=True))


def user_claims(user, scopes: Iterable[str] = ()) -> dict[str, Any]:
    """Every standard claim of ``user`` that the approved ``scopes`` could release.

    ``phone_number_verified`` never comes from the hook: it is true only when ``phone_number`` is a
    confirmed SMS factor's number; without a number from the hook, the first confirmed SMS number
    is the user's phone_number. The SMS devices are read only when the ``phone`` scope was
    approved."""
    claims = dict(user_claims_hook()(user) or {})
    claims.pop("sub", None)  # the subject is mfa_oauth.oauth.subject's alone
    claims.pop("phone_number_verified", None)
    if "phone" in set(scopes):
        confirmed = confirmed_sms_numbers(user)
        number = claims.get("phone_number")
        if not number and confirmed:
            claims["phone_number"] = number = confirmed[0]
        if number:
            claims["phone_number_verified"] = number in confirmed
    return claims


def supported_user_claims() -> tuple[str, ...]:
    hook = user_claims_hook()
    supported = getattr(hook, "supported_claims", None)
    names = set(CLAIM_SCOPE) if supported is None else set(supported)
    if _sms_installed() or "phone_number" in names:
        names |= {"phone_number", "phone_number_verified"}
    return tuple(sorted(names))


def release(
    candidates: Mapping[str, Any],
    *,
    scopes: Iterable[str],
    claim_scope: Mapping[str, str] | None,
    requested: Mapping[str, Any] | None,
) -> dict[str, Any]:
    """The claims of ``candidates`` an id_token or userinfo answer may carry.

    ``claim_scope`` is the validator's ``oidc_claim_scope`` (DOT's extension point: a claim is
    released when its scope was approved; ``None`` releases all, as in DOT). ``requested`` is the
    claims parameter's member for this answer (``id_token`` or ``userinfo``)."""
    granted = set(scopes)
    requested = requested or {}
    released = {}
    for name, value in candidates.items():
        if claim_scope is not None and claim_scope.get(name) not in granted:
            continue
        if name in CLAIM_SCOPE and not _wanted(requested.get(name), value):
            continue
        released[name] = value
    return released


def discovery_claims_metadata() -> dict[str, Any]:
    """What discovery (OIDC Discovery §3) says about claims and subjects.

    ``claims_parameter_supported``: the parameter is validated, stored with the grant and applied
    to the id_token and userinfo (§5.5); ``claims_supported``: the claims the provider may supply;
    ``subject_types_supported``: both (§8)."""
    return {
        "claims_parameter_supported": True,
        "claims_supported": sorted(set(ID_TOKEN_CLAIMS) | set(supported_user_claims())),
        "subject_types_supported": list(SUBJECT_TYPES),
    }
