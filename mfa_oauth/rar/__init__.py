"""Rich Authorization Requests (RFC 9396): ``authorization_details`` validated by registered types.

A site registers each type it understands with a JSON schema (Draft 2020-12, checked with
``jsonschema``) and a function that says the detail in plain words for the consent page, in the
user's language::

    from mfa_oauth import rar

    rar.register("account_information", SCHEMA, describe)

A client may use a type only when its security profile lists it (``authorization_details_types``).
What is granted is stored on the token family's ``AuthenticationRecord`` and returned in the token
response and in introspection (RFC 9396 §7, §9.1). A refresh may ask for the same details or fewer,
never others (§6: no widening).

Errors are ``invalid_authorization_details`` (RFC 9396 §5) with a description of what is wrong.
"""

from __future__ import annotations

import json
from typing import Any

from oauthlib.oauth2.rfc6749 import errors as oauth_errors

from .registry import DetailType, _registry, register

__all__ = ["DetailType", "register"]

MAX_LENGTH = 16 * 1024
# The consent form's account choices (see narrowed()): a marker and one value "<index>:<account>" per box.
CONSENT_FIELDS = ("authorization_details_choice", "authorization_details_account")
MAX_DETAILS = 20


class InvalidAuthorizationDetails(oauth_errors.OAuth2Error):
    """RFC 9396 §5; an oauthlib error, so the token endpoint answers it as JSON with status 400."""

    error = "invalid_authorization_details"
    status_code = 400


def registered_types() -> list[str]:
    _load_defaults()
    return sorted(_registry)


def allowed_types(application) -> set[str]:
    try:
        return set(application.mfa_security.authorization_details_types or ())
    except Exception:  # no ClientSecurityProfile
        return set()


def parse(raw: Any, application) -> list[dict]:
    """The validated details of a request parameter (a JSON array), or InvalidAuthorizationDetails."""
    from jsonschema import Draft202012Validator

    _load_defaults()
    if raw is None or raw == "":
        return []
    if isinstance(raw, str):
        if len(raw) > MAX_LENGTH:
            raise InvalidAuthorizationDetails(description="authorization_details is too long")
        try:
            details = json.loads(raw)
        except ValueError as error:
            raise InvalidAuthorizationDetails(description="authorization_details is not JSON") from error
    else:
        details = raw
    if not isinstance(details, list) or not details or len(details) > MAX_DETAILS:
        raise InvalidAuthorizationDetails(description="authorization_details must be a non-empty JSON array")
    allowed = allowed_types(application)
    for index, detail in enumerate(details):
        if not isinstance(detail, dict) or not isinstance(detail.get("type"), str):
            raise InvalidAuthorizationDetails(description=f"authorization_details[{index}] has no type")
        kind = _registry.get(detail["type"])
        if kind is None:
            raise InvalidAuthorizationDetails(description=f"Unknown authorization details type {detail['type']!r}")
        if kind.name not in allowed:
            raise InvalidAuthorizationDetails(description=f"This client may not use the type {kind.name!r}")
        problem = next(iter(Draft202012Validator(kind.schema).iter_errors(detail)), None)
        if problem is not None:
            where = "/".join(str(p) for p in problem.absolute_path) or "(the object)"
            raise InvalidAuthorizationDetails(
                description=f"authorization_details[{index}] {where}: {problem.message}"[:300]
            )
    return details


def describe(details: list[dict]) -> list[str]:
    """What the consent page shows: one sentence per detail, by its type's function."""
    _load_defaults()
    return [_registry[d["type"]].describe(d) for d in details if d.get("type") in _registry]


def is_narrowing(requested: list[dict], granted: list[dict]) -> bool:
    """RFC 9396 §6: every requested detail is one of the granted ones (no widening)."""
    canonical = {json.dumps(d, sort_keys=True) for d in granted}
    return all(json.dumps(d, sort_keys=True) in canonical for d in requested)


def metadata(data: dict) -> dict:
    """Discovery: ``authorization_details_types_supported`` (RFC 9396 §10)."""
    data["authorization_details_types_supported"] = registered_types()
    return data


_defaults_loaded = False


def _load_defaults() -> None:
    global _defaults_loaded
    if not _defaults_loaded:
        _defaults_loaded = True
        from . import banking  # noqa: F401  (registers the two open-banking types)


# --- the consent page: the user may narrow the accounts (RFC 9396 §4 leaves the choice to the AS) ---


def _masked(account: str) -> str:
    return "•••• " + account[-4:]


def consent_choices(details: list[dict]) -> list[dict]:
    """One entry per detail for the consent page: its sentence and, for account_information, the
    accounts as checkboxes (value ``<index>:<account>``)."""
    _load_defaults()
    choices = []
    for index, detail in enumerate(details):
        kind = _registry.get(str(detail.get("type")))
        if kind is None:
            continue
        accounts = []
        if detail["type"] == "account_information":
            accounts = [(f"{index}:{account}", _masked(account)) for account in detail.get("accounts", [])]
        choices.append({"description": kind.describe(detail), "accounts": accounts})
    return choices


def narrowed(details: list[dict], posted) -> list[dict]:
    """The details with only the accounts ticked on the consent form; unchanged without the form's
    marker. A detail with no account left is dropped. Never wider: only requested accounts survive."""
    if posted.get("authorization_details_choice") != "1":
        return details
    chosen: dict[str, set[str]] = {}
    for value in posted.getlist("authorization_details_account"):
        index, _, account = value.partition(":")
        chosen.setdefault(index, set()).add(account)
    result = []
    for index, detail in enumerate(details):
        if detail.get("type") == "account_information":
            keep = [a for a in detail.get("accounts", []) if a in chosen.get(str(index), set())]
            if not keep:
                continue
            detail = {**detail, "accounts": keep}
        result.append(detail)
    return result
