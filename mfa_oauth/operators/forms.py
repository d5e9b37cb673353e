from django import forms
from django.utils.translation import gettext_lazy as _


class OnceForm(forms.Form):
    """A form carrying a one-time nonce, so a reloaded POST cannot enroll twice or show a secret again."""

    nonce = forms.CharField(widget=forms.HiddenInput, max_length=64)


class TOTPEnrollForm(OnceForm):
    name = forms.CharField(label=_("Name"), max_length=64, initial="Authenticator app")


class SMSEnrollForm(forms.Form):
    number = forms.CharField(
        label=_("Phone number"), max_length=32, help_text=_("International format, e.g. +41 79 123 45 67.")
    )
    name = forms.CharField(label=_("Name"), max_length=64, required=False)


class HOTPEnrollForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=64, initial="Hardware token")
    secret = forms.CharField(
        label=_("Secret"), max_length=200, help_text=_("The token's seed from its vendor file, hex or base32.")
    )
    digits = forms.TypedChoiceField(label=_("Digits"), choices=[(6, "6"), (8, "8")], coerce=int, initial=6)
    # Bounded like mfa_import's hotp_counter: past 2**63 the database refuses the row (a 500).
    counter = forms.IntegerField(label=_("Counter"), min_value=0, max_value=10**12, initial=0)
