"""The forms of the "add a phone number" page (``MFA_OAUTH["FORMS"]["sms_number"]`` and
``["sms_code"]``): the page renders its fields from them, so a project's swap changes the page. The
number itself is checked by :mod:`mfa_oauth.sms.service` (phonenumbers), which the view calls."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _


class SMSNumberForm(forms.Form):
    number = forms.CharField(
        label=_("Mobile number, with + and the country code"),
        max_length=32,
        widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "tel"}),
    )
    name = forms.CharField(label=_("Name (optional)"), max_length=64, required=False)


class SMSCodeForm(forms.Form):
    token = forms.CharField(
        max_length=64,
        strip=True,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True}),
    )
