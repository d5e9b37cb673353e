"""When a user may not drop their last second factor.

The rule is per user: the site default mode is "always", or a client the user has authorized
(a live token) demands a second factor (mode "always" or a minimum acr at MFA level or above).
Backup codes are a recovery path, not a factor of their own: they do not count as the one factor
that must remain, and they cannot be removed when they are all that is left.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import Q
from django.utils.translation import gettext as _
from oauth2_provider.models import get_access_token_model, get_application_model, get_refresh_token_model

from ..conf import settings as mfa_settings
from ..context import ACR_LEVELS, LEVEL_MFA
from ..methods import confirmed_devices, method_of
from ..models import MFAMode

RECOVERY_METHODS = ("backup_code",)


def is_recovery(device: Any) -> bool:
    return method_of(device).name in RECOVERY_METHODS


@dataclass(frozen=True)
class Requirement:
    required: bool
    reason: str = ""


def requirement(user: Any) -> Requirement:
    """Whether ``user`` must keep a second factor, and a sentence saying why."""
    if mfa_settings.DEFAULT_MFA_MODE == MFAMode.ALWAYS:
        return Requirement(True, _("This site requires a second factor for every account."))
    app_ids = set(get_access_token_model().objects.filter(user=user).values_list("application_id", flat=True))
    app_ids |= set(
        get_refresh_token_model()
        .objects.filter(user=user, revoked__isnull=True)
        .values_list("application_id", flat=True)
    )
    app_ids.discard(None)
    if not app_ids:
        return Requirement(False)
    strong_acr = [acr for level, acr in enumerate(ACR_LEVELS) if level >= LEVEL_MFA]
    names = sorted(
        get_application_model()
        .objects.filter(pk__in=app_ids)
        .filter(Q(mfa_policy__mfa_mode=MFAMode.ALWAYS) | Q(mfa_policy__min_acr__in=strong_acr))
        .values_list("name", flat=True)
    )
    if not names:
        return Requirement(False)
    return Requirement(True, _("You use %(clients)s, which requires a second factor.") % {"clients": ", ".join(names)})


def removal_refusal(user: Any, device: Any) -> str | None:
    """None when ``device`` may be removed; otherwise the explanation shown to the user."""
    others = [d for d in confirmed_devices(user) if d.persistent_id != device.persistent_id]
    primary_left = [d for d in others if not is_recovery(d)]
    if is_recovery(device) and others:
        return None
    if primary_left:
        return None
    rule = requirement(user)
    if not rule.required:
        return None
    return _(
        "%(reason)s This is your last one, so it cannot be removed. Add another factor first, then remove this one."
    ) % {"reason": rule.reason}
