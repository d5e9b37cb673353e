"""The authenticator-app enrollment form: what the enrollment page renders its code field from, so a
project that swaps it through ``MFA_OAUTH["FORMS"]["totp_confirm"]`` changes the page."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _


class TOTPConfirmForm(forms.Form):
    token = forms.CharField(
        label=_("Code from the app"),
        max_length=64,
        strip=True,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True}),
    )
