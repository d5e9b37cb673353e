"""System checks on the ``MFA_OAUTH`` dict itself: unknown keys, wrong types, moved settings, the adapter
and the form swaps (ids mfa_oauth.E120-E129 / W120-W129).

A misspelt key (``MAX_FAILED_ATTEMPT``) would otherwise be ignored and the default used without a word;
the check names the nearest known key (difflib), as Django does for unknown template tags.
"""

from __future__ import annotations

import difflib
from typing import Any

from django import forms
from django.conf import settings
from django.core.checks import CheckMessage, Error, Warning, register
from django.utils.module_loading import import_string

from .conf import DEFAULTS, DEPRECATED_ALIASES, overrides

# Settings whose default is a number but that take None to switch a limit off (see conf.py).
_INT_OR_NONE = {
    "SESSION_IDLE_TIMEOUT",
    "SESSION_ABSOLUTE_TIMEOUT",
    "SMS_MAX_PER_NUMBER_PER_HOUR",
    "SMS_MAX_PER_USER_PER_DAY",
    "SMS_MAX_PER_IP_PER_HOUR",
    "SMS_MAX_GLOBAL_PER_MINUTE",
    "LOGIN_THROTTLE_ACCOUNT_FREE_FAILURES",
    "LOGIN_THROTTLE_IP_FREE_FAILURES",
}
# Settings that take a single string where the default is a sequence (one proxy, one key).
_SEQUENCE_OR_STR = {"TRUSTED_PROXIES", "SEED_KEYS", "SMS_ALLOWED_COUNTRIES", "WEBAUTHN_ORIGINS"}


# Settings whose default is None but that take a string.
_STR_OR_NONE = {"CSP", "SMS_DEFAULT_REGION"}
# The type names of the defaults; bool before int (a bool is an int).
_TYPE_NAMES: tuple[tuple[type | tuple[type, ...], str], ...] = (
    (bool, "bool"),
    (float, "float"),
    (int, "int"),
    (str, "str"),
    (dict, "dict"),
    ((list, tuple), "list"),
)


def expected_type(name: str) -> str:
    """The type of ``MFA_OAUTH[name]`` as docs/extending.md names it."""
    if name in _STR_OR_NONE:
        return "str | None"
    default = DEFAULTS[name]
    base = next((label for kind, label in _TYPE_NAMES if isinstance(default, kind)), "any")
    if name in _INT_OR_NONE:
        return f"{base} | None"
    if name in _SEQUENCE_OR_STR:
        return "list | str"
    return base


def _type_ok(value: Any, expected: str) -> bool:
    accepted = {
        "bool": lambda v: isinstance(v, bool),
        # Seconds and counts: a whole number is expected, but a float is not a mistake worth an error
        # (the settings that must be whole say so in their own checks, e.g. mfa_oauth.E001).
        "int": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
        "float": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
        "str": lambda v: isinstance(v, str),
        "dict": lambda v: isinstance(v, dict),
        "list": lambda v: isinstance(v, (list, tuple)),
        "any": lambda v: True,
    }
    return any(value is None if part == "None" else accepted[part](value) for part in expected.split(" | "))


def _unknown_keys(project: dict[str, Any]) -> list[CheckMessage]:
    messages: list[CheckMessage] = []
    for key in sorted(k for k in project if k not in DEFAULTS):
        close = difflib.get_close_matches(str(key), list(DEFAULTS), n=1, cutoff=0.6)
        messages.append(
            Warning(
                f"MFA_OAUTH[{key!r}] is not a setting of mfa_oauth; it is ignored.",
                hint=f"Did you mean {close[0]!r}?" if close else "See docs/extending.md for the settings.",
                id="mfa_oauth.W120",
            )
        )
    return messages


def _wrong_types(project: dict[str, Any]) -> list[CheckMessage]:
    messages: list[CheckMessage] = []
    for key in sorted(k for k in project if k in DEFAULTS):
        expected = expected_type(key)
        if not _type_ok(project[key], expected):
            messages.append(
                Error(
                    f"MFA_OAUTH[{key!r}] is {type(project[key]).__name__}, expected {expected}.",
                    hint=f"The default is {DEFAULTS[key]!r}.",
                    id="mfa_oauth.E123",
                )
            )
    return messages


def _moved(project: dict[str, Any]) -> list[CheckMessage]:
    messages: list[CheckMessage] = []
    for key, legacy in DEPRECATED_ALIASES.items():
        if not hasattr(settings, legacy):
            continue
        ignored = " (ignored: MFA_OAUTH sets it too)" if key in project else ""
        messages.append(
            Warning(
                f"The setting {legacy} is deprecated{ignored}.",
                hint=f"Move it to MFA_OAUTH[{key!r}].",
                id="mfa_oauth.W121",
            )
        )
    return messages


def _adapter(project: dict[str, Any]) -> list[CheckMessage]:
    from .adapter import DefaultMFAOAuthAdapter

    path = project.get("ADAPTER", DEFAULTS["ADAPTER"])
    try:
        cls = import_string(path) if isinstance(path, str) else path
    except ImportError as error:
        return [Error(f"MFA_OAUTH['ADAPTER'] = {path!r} cannot be imported: {error}.", id="mfa_oauth.E121")]
    if not (isinstance(cls, type) and issubclass(cls, DefaultMFAOAuthAdapter)):
        return [
            Error(
                f"MFA_OAUTH['ADAPTER'] = {path!r} is not a subclass of DefaultMFAOAuthAdapter.",
                hint="Subclass mfa_oauth.adapter.DefaultMFAOAuthAdapter and override only the hooks you need.",
                id="mfa_oauth.E121",
            )
        ]
    return []


def _forms(project: dict[str, Any]) -> list[CheckMessage]:
    from .adapter import FORM_DEFAULTS

    swaps = project.get("FORMS") or {}
    if not isinstance(swaps, dict):
        return []  # E123 reports the type
    messages: list[CheckMessage] = []
    for name, path in sorted(swaps.items()):
        if name not in FORM_DEFAULTS:
            close = difflib.get_close_matches(str(name), list(FORM_DEFAULTS), n=1)
            hint = f"Did you mean {close[0]!r}?" if close else f"Known forms: {', '.join(sorted(FORM_DEFAULTS))}."
            messages.append(
                Error(f"MFA_OAUTH['FORMS'] names an unknown form {name!r}.", hint=hint, id="mfa_oauth.E122")
            )
            continue
        try:
            cls = import_string(path)
        except ImportError as error:
            messages.append(
                Error(f"MFA_OAUTH['FORMS'][{name!r}] = {path!r} cannot be imported: {error}.", id="mfa_oauth.E122")
            )
            continue
        default = import_string(FORM_DEFAULTS[name])
        if not (isinstance(cls, type) and issubclass(cls, forms.BaseForm)):
            messages.append(Error(f"MFA_OAUTH['FORMS'][{name!r}] = {path!r} is not a form class.", id="mfa_oauth.E122"))
        elif not issubclass(cls, default):
            messages.append(
                Warning(
                    f"MFA_OAUTH['FORMS'][{name!r}] = {path!r} does not subclass {FORM_DEFAULTS[name]}.",
                    hint="The views rely on the default's fields and constructor arguments; subclass it.",
                    id="mfa_oauth.W122",
                )
            )
    return messages


@register()
def check_mfa_oauth_settings(app_configs: Any, **kwargs: Any) -> list[CheckMessage]:
    raw = getattr(settings, "MFA_OAUTH", {}) or {}
    if not isinstance(raw, dict):
        return [Error(f"MFA_OAUTH must be a dict, not {type(raw).__name__}.", id="mfa_oauth.E120")]
    project = overrides()
    return [*_unknown_keys(project), *_wrong_types(project), *_moved(project), *_adapter(project), *_forms(project)]
