"""Establish trust when the user ticked "trust this browser" on a successful challenge."""

from __future__ import annotations

from typing import Any

from django.dispatch import receiver
from django.http import HttpRequest

from mfa_oauth.redirects import safe_next
from mfa_oauth.signals import second_factor_verified

from .flows import FORM_FIELD, application_of_next, establish, trust_days


@receiver(second_factor_verified, dispatch_uid="mfa_oauth.trust.establish")
def remember_browser(sender: Any, request: HttpRequest, user: Any, context: Any = None, **kwargs: Any) -> None:
    if request is None or context is None or request.method != "POST":
        return
    if request.POST.get(FORM_FIELD) != "1":
        return
    # The offer is re-derived from the posted next URL: a tampered form gains nothing.
    days = trust_days(application_of_next(safe_next(request, request.POST.get("next"))))
    if days:
        establish(request, context, days)
