"""The "project" side: an adapter subclass and a swapped form, as a site would write them."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from mfa_oauth.account.forms import RenameForm
from mfa_oauth.adapter import DefaultMFAOAuthAdapter
from mfa_oauth.sms.forms import SMSNumberForm
from mfa_oauth.totp.forms import TOTPConfirmForm

SENT: list[dict[str, Any]] = []  # notifications this project delivered its own way


class ProjectAdapter(DefaultMFAOAuthAdapter):
    def get_totp_issuer(self, device) -> str:
        return "Example Bank"

    def format_sms_code(self, *, code: str, site_name: str, minutes: int) -> str:
        return f"Example Bank code {code} ({minutes} min). We never ask for it by phone."

    def get_extra_claims(self, request, user) -> dict[str, Any]:
        # Released only under a granted scope (DOT's oidc_claim_scope: "name" and "locale" are
        # "profile", OIDC Core §5.4). "acr" shows that an adapter cannot replace the authentication claims.
        return {"name": f"{user.get_username().title()} Example", "locale": "en-GB", "acr": "forged"}

    def get_removal_refusal(self, user, device) -> str | None:
        if device.name == "vault":
            return "The vault factor is managed by your administrator."
        return super().get_removal_refusal(user, device)

    def send_notification(self, kind, user, *, to, context, request=None) -> None:
        SENT.append({"kind": kind, "to": to, "site_name": context["site_name"]})


class ProjectRenameForm(RenameForm):
    name = forms.CharField(
        label=_("Name"),
        max_length=32,
        strip=True,
        widget=forms.TextInput(attrs={"placeholder": "e.g. work phone", "data-project": "rename"}),
    )

    def clean_name(self) -> str:
        name = super().clean_name()
        if "admin" in name.lower():
            raise forms.ValidationError("Names may not mention admin here.")
        return name


class ProjectTOTPConfirmForm(TOTPConfirmForm):
    token = forms.CharField(
        label=_("Six digits from your bank's app"),
        max_length=6,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "data-project": "totp"}),
    )


class ProjectSMSNumberForm(SMSNumberForm):
    number = forms.CharField(
        label=_("Your mobile number"),
        max_length=20,
        widget=forms.TextInput(attrs={"type": "tel", "placeholder": "+44 7700 900123", "data-project": "sms"}),
    )
