from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _


class ChallengeForm(forms.Form):
    # The factor to send a code to, or the one the page tries a typed code on first (a hint).
    device = forms.CharField(max_length=200)
    token = forms.CharField(
        label=_("Code"),
        max_length=64,
        required=False,
        strip=True,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "text", "autofocus": True}),
    )
    action = forms.ChoiceField(choices=[("verify", "verify"), ("send", "send")], required=False)

    def __init__(self, *args, devices=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.devices = {d.persistent_id: d for d in devices}

    def clean_device(self):
        device = self.devices.get(self.cleaned_data["device"])
        if device is None:
            raise forms.ValidationError(_("Choose one of your own second factors."))
        return device
