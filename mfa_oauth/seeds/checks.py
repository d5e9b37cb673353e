"""System checks for the seed keys: production never runs on the SECRET_KEY-derived default.

The default exists so a development checkout works with no setting at all; in production it would
tie the seeds to SECRET_KEY (rotating one would rotate the other) and put the key that opens every
seed in the same setting every Django feature reads. E050 is an error when DEBUG is off (every
management command, ``runserver`` and the WSGI checks see it) and under ``check --deploy``.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import Error, Tags, register

from ..conf import settings as mfa_settings
from .keyring import MIN_KEY_LENGTH, key_problems

HINT = (
    "Set MFA_OAUTH['SEED_KEYS'] to a list of secrets, e.g. [secrets.token_urlsafe(32)] from the "
    "environment; the first encrypts, every one decrypts (docs/security.md, 'OTP seeds at rest')."
)


def _no_explicit_key() -> list[Error]:
    return [
        Error(
            "MFA_OAUTH['SEED_KEYS'] is not set: the TOTP/HOTP seeds are encrypted with a key derived "
            "from SECRET_KEY, which is for development only.",
            hint=HINT,
            id="mfa_oauth.E050",
        )
    ]


@register(Tags.security)
def check_seed_keys(app_configs: Any, **kwargs: Any) -> list[Error]:
    value = mfa_settings.SEED_KEYS
    problems = key_problems(value)
    if problems:
        return [
            Error(
                f"MFA_OAUTH['SEED_KEYS'] {problem}.",
                hint=f"Each key is a string of at least {MIN_KEY_LENGTH} random characters. {HINT}",
                id="mfa_oauth.E051",
            )
            for problem in problems
        ]
    if not value and not settings.DEBUG:
        return _no_explicit_key()
    return []


@register(Tags.security, deploy=True)
def check_seed_keys_deploy(app_configs: Any, **kwargs: Any) -> list[Error]:
    # With DEBUG off the check above already reported it; one message, not two.
    if settings.DEBUG and not key_problems(mfa_settings.SEED_KEYS) and not mfa_settings.SEED_KEYS:
        return _no_explicit_key()
    return []
