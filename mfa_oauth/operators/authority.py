"""Whether an operator may change another account: least privilege (NIST SP 800-53 AC-6(5)).

Whoever controls an account's second factor (enrolls one and sees its secret, resets it so the
next sign-in enrolls anew, unlocks it, moves a device) or its password can become that account.
Django's ``change_user`` permission alone therefore must not reach an account worth more than
the operator's own: a superuser, or an account holding any permission the operator lacks (and
only active staff act at all). Those need a superuser (``docs/security.md``,
"Operator actions").
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import Permission
from django.db.models import Q
from django.utils.translation import gettext as _

# How many missing permissions a refusal names before "…".
_NAMED = 3


@dataclass(frozen=True)
class Authority:
    """The decision for one (operator, target) pair; ``reason`` says why it was refused."""

    allowed: bool
    reason: str = ""


def permissions_of(user: Any) -> frozenset[str]:
    """Every permission ``user`` holds or would hold again once reactivated."""
    permissions = set(user.get_all_permissions())
    if not user.is_active and hasattr(user, "user_permissions"):
        # django.contrib.auth's ModelBackend answers no permission for an inactive account, but the
        # rows stay and come back with ``is_active``: an operator who could reset such an account's
        # factors and then reactivate it would get them.
        rows = Permission.objects.filter(Q(user=user) | Q(group__user=user)).distinct()
        names = rows.values_list("content_type__app_label", "codename")
        permissions |= {f"{app}.{codename}" for app, codename in names}
    return frozenset(permissions)


def authority_over(operator: Any, target: Any) -> Authority:
    """May ``operator`` change ``target``'s account and second factors?"""
    if operator.is_superuser and operator.is_active:
        return Authority(True)
    if not (operator.is_active and operator.is_staff):
        return Authority(False, _("Only active staff members can change accounts."))
    if target.pk == operator.pk:
        return Authority(True)  # nothing to gain: the same permissions
    if target.is_superuser:
        return Authority(
            False, _("%(user)s is a superuser: only a superuser can change this account.") % {"user": target}
        )
    missing = sorted(permissions_of(target) - permissions_of(operator))
    if missing:
        named = ", ".join(missing[:_NAMED]) + (", …" if len(missing) > _NAMED else "")
        return Authority(
            False,
            _("%(user)s holds permissions you do not have (%(permissions)s): only a superuser can change this account.")
            % {"user": target, "permissions": named},
        )
    return Authority(True)


def refusals(operator: Any, targets: Any) -> list[Authority]:
    """The refusals among ``targets`` (each one once), for actions on many accounts at once."""
    seen: set = set()
    refused = []
    for target in targets:
        if target.pk in seen:
            continue
        seen.add(target.pk)
        decision = authority_over(operator, target)
        if not decision.allowed:
            refused.append(decision)
    return refused
