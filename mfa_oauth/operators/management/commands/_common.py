"""Helpers shared by the operator commands."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.management.base import CommandError


def get_user(username: str):
    User = get_user_model()
    try:
        return User._default_manager.get(**{User.USERNAME_FIELD: username})
    except User.DoesNotExist:
        raise CommandError(f"No user named {username!r}.") from None
