"""The pages of the third-party finance app (idp_site.demo.finance): connect accounts, callback, read.

Every view that changes anything is POST with Django's CSRF check, except the callback, which is the
authorization response (RFC 6749 §4.1.2) and is checked against the pending request's ``state``."""

from __future__ import annotations

import re

from django import forms
from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from . import finance

COOKIE = "demo_finance"
ACCOUNT_PATTERN = re.compile(r"^[A-Za-z0-9]{4,34}$")  # the account_information schema's account ids


class ConnectForm(forms.Form):
    """The accounts the user wants the app to read, as a user types their account numbers in."""

    account_1 = forms.CharField(label=gettext_lazy("First account (IBAN)"), max_length=34, required=False)
    account_2 = forms.CharField(label=gettext_lazy("Second account (IBAN)"), max_length=34, required=False)

    def clean(self) -> dict:
        data = super().clean()
        accounts = []
        for name in ("account_1", "account_2"):
            value = (data.get(name) or "").replace(" ", "")
            if not value:
                continue
            if not ACCOUNT_PATTERN.match(value):
                self.add_error(name, _("An account number is 4 to 34 letters and digits."))
            elif value not in accounts:
                accounts.append(value)
        if not accounts and not self.errors:
            raise forms.ValidationError(_("Enter at least one account number."))
        data["accounts"] = accounts
        return data


def _base_url(request: HttpRequest) -> str:
    return settings.DEMO_IDP_BASE_URL or request.build_absolute_uri("/")


def _redirect_uri(request: HttpRequest) -> str:
    return request.build_absolute_uri(reverse("demo:finance-callback"))


def _reference(request: HttpRequest) -> str | None:
    value = request.COOKIES.get(COOKIE, "")
    return value if re.fullmatch(r"[A-Za-z0-9_-]{20,64}", value) else None


@never_cache
@require_GET
def index(request: HttpRequest) -> HttpResponse:
    registration = finance.load_state()
    data = finance.session(_reference(request))
    demo_accounts = (registration or {}).get("demo_accounts", {})
    initial = dict(zip(("account_1", "account_2"), demo_accounts.get("alice", [])))
    error = data.pop("error", "")
    if error:
        finance.store(_reference(request), data)
    return render(
        request,
        "demo/finance.html",
        {
            "registration": registration,
            "client_id": settings.DEMO_FINANCE_CLIENT_ID,
            "demo_accounts": sorted(demo_accounts.items()),
            "form": ConnectForm(initial=initial),
            "error": error,
            "connection": data.get("connection"),
            "without_key": data.get("without_key"),
        },
    )


@require_POST
def start(request: HttpRequest) -> HttpResponse:
    form = ConnectForm(request.POST)
    reference = _reference(request) or finance.new_reference()
    if not form.is_valid():
        registration = finance.load_state()
        return render(
            request,
            "demo/finance.html",
            {
                "registration": registration,
                "client_id": settings.DEMO_FINANCE_CLIENT_ID,
                "demo_accounts": sorted((registration or {}).get("demo_accounts", {}).items()),
                "form": form,
            },
            status=400,
        )
    accounts = form.cleaned_data["accounts"]
    try:
        oauth = finance.client(_base_url(request), _redirect_uri(request))
        authorization, url = finance.push(oauth, accounts)
    except finance.FinanceAppError as error:
        return _fail(request, reference, str(error))
    finance.begin(reference, authorization, accounts)
    # The browser carries only client_id and request_uri (RFC 9126 §4); the request stays server side.
    response = redirect(url)
    _set_cookie(request, response, reference)
    return response


@never_cache
@require_GET
def callback(request: HttpRequest) -> HttpResponse:
    reference = _reference(request)
    authorization = finance.claim(reference)  # single use: a replayed callback finds nothing
    if reference is None or authorization is None:
        return _fail(
            request, reference or finance.new_reference(), _("This browser started no connection (or it expired).")
        )
    data = finance.session(reference)
    asked = data.get("asked", [])
    try:
        oauth = finance.client(_base_url(request), _redirect_uri(request))
        token = finance.redeem(oauth, authorization, request.build_absolute_uri())
        reading = finance.read_accounts(_base_url(request), token, asked)
    except finance.FinanceAppError as error:
        finance.store(reference, data)
        return _fail(request, reference, str(error))
    data.update(
        token=finance.dump_token(token),
        without_key=None,
        connection=_connection(token, asked, reading),
    )
    finance.store(reference, data)
    return redirect("demo:finance")


@require_POST
def read_again(request: HttpRequest) -> HttpResponse:
    reference = _reference(request)
    data = finance.session(reference)
    if not data.get("token"):
        return _fail(request, reference or finance.new_reference(), _("Connect your accounts first."))
    token = finance.load_token(data["token"])
    try:
        reading = finance.read_accounts(_base_url(request), token, data.get("asked", []))
    except finance.FinanceAppError as error:
        return _fail(request, reference, str(error))
    data["connection"] = _connection(token, data.get("asked", []), reading)
    finance.store(reference, data)
    return redirect("demo:finance")


@require_POST
def without_key(request: HttpRequest) -> HttpResponse:
    """Show what the token is worth without the app's DPoP key (RFC 9449 §7.1: nothing)."""
    reference = _reference(request)
    data = finance.session(reference)
    if not data.get("token"):
        return _fail(request, reference or finance.new_reference(), _("Connect your accounts first."))
    try:
        data["without_key"] = finance.call_without_key(_base_url(request), finance.load_token(data["token"]))
    except finance.FinanceAppError as error:
        return _fail(request, reference, str(error))
    finance.store(reference, data)
    return redirect("demo:finance")


@require_POST
def disconnect(request: HttpRequest) -> HttpResponse:
    finance.forget(_reference(request))
    response = redirect("demo:finance")
    response.delete_cookie(COOKIE, samesite="Lax")
    return response


def _connection(token, asked: list[str], reading: dict) -> dict:
    listed_ids = {a.get("id") for a in reading["accounts"]}
    return {
        "token_type": token.token_type,
        "expires_at": token.expires_at.isoformat() if token.expires_at else "",
        "granted": token.kwargs.get("authorization_details", []),
        "accounts": [
            {
                **account,
                "masked": "•••• " + str(account.get("id", ""))[-4:],
                "transactions": reading["transactions"]
                .get(account.get("id"), {})
                .get("body", {})
                .get("transactions", []),
            }
            for account in reading["accounts"]
        ],
        # Asked for but not shared at consent: the bank answers 404 for them, like for any unknown account.
        "not_shared": ["•••• " + a[-4:] for a in asked if a not in listed_ids],
        "listed_status": reading["listed"]["status"],
    }


def _fail(request: HttpRequest, reference: str, message: str) -> HttpResponse:
    data = finance.session(reference)
    data["error"] = message
    finance.store(reference, data)
    response = redirect("demo:finance")
    _set_cookie(request, response, reference)
    return response


def _set_cookie(request: HttpRequest, response: HttpResponse, reference: str) -> None:
    response.set_cookie(
        COOKIE,
        reference,
        max_age=finance.STATE_LIFETIME,
        httponly=True,
        samesite="Lax",
        secure=request.is_secure(),
    )
