"""A sample bank API that demands different assurance per operation (RFC 9470 step-up).

Reading the balance needs any second factor; moving money needs the phishing-resistant level or a
second factor younger than five minutes. The tokens are validated with mfa_oauth.resource (locally,
or through introspection when MFA_OAUTH["RESOURCE_SERVER_INTROSPECTION_URL"] is set).
"""

from __future__ import annotations

import json

from django.http import JsonResponse
from django.views.decorators.http import require_http_methods

from mfa_oauth.context import ACR_MFA, ACR_PHISHING_RESISTANT
from mfa_oauth.resource import Requirement, require_authentication

from . import bank

TRANSFER_MAX_MFA_AGE = 300
TRANSFER_REQUIREMENTS = (
    Requirement(acr=ACR_PHISHING_RESISTANT),
    Requirement(acr=ACR_MFA, max_age=TRANSFER_MAX_MFA_AGE),
)


def _authentication(request) -> dict:
    info = request.token_info
    return {"acr": info.acr, "amr": list(info.amr), "auth_time": info.auth_time}


@require_http_methods(["GET"])
@require_authentication(acr=ACR_MFA, scopes=["balance"])
def balance(request):
    return JsonResponse(
        {"account": request.token_info.username, "balance": "1234.56", "currency": "EUR", **_authentication(request)}
    )


@require_http_methods(["POST"])
@require_authentication(any_of=TRANSFER_REQUIREMENTS, scopes=["transfer"])
def transfer(request):
    # A demo: nothing moves. The point is which tokens get this far.
    return JsonResponse({"status": "accepted", "account": request.token_info.username, **_authentication(request)})


# --- open banking (RFC 9396 authorization details; docs/fapi.md) ----------------------------------


def _user(request):
    from django.contrib.auth import get_user_model

    info = request.token_info
    token = info.token
    if token is not None and token.user_id is not None:
        return token.user
    return get_user_model().objects.filter(username=info.username).first() if info.username else None


@require_http_methods(["GET"])
@require_authentication(acr=ACR_MFA)
def accounts(request):
    """The accounts the user consented to (read_balances), and nothing about the others."""
    user = _user(request)
    granted = bank.granted_accounts(request.token_info, "read_balances")
    listed = [a for a in bank.accounts_of(user) if a.id in granted] if user is not None else []
    return JsonResponse(
        {"accounts": [{"id": a.id, "name": a.name, "balance": a.balance, "currency": a.currency} for a in listed]}
    )


@require_http_methods(["GET"])
@require_authentication(acr=ACR_MFA)
def transactions(request, account_id: str):
    user = _user(request)
    granted = bank.granted_accounts(request.token_info, "read_transactions")
    account = next((a for a in bank.accounts_of(user) if a.id == account_id), None) if user is not None else None
    if account is None or account.id not in granted:
        # Not consented and not the user's look the same: nothing is told about other accounts.
        return JsonResponse({"error": "not_found", "error_description": "No such consented account"}, status=404)
    return JsonResponse({"account": account.id, "transactions": bank.transactions_of(account)})


@require_http_methods(["POST"])
@require_authentication(any_of=TRANSFER_REQUIREMENTS)
def payments(request):
    """One payment, only as the token's payment_initiation detail describes it (amount and creditor),
    and only with a phishing-resistant factor or a second factor of the last five minutes (RFC 9470)."""
    try:
        body = json.loads(request.body or b"{}")
    except ValueError:
        body = None
    if not isinstance(body, dict):
        return JsonResponse(
            {"error": "invalid_request", "error_description": "The body is not a JSON object"}, status=400
        )
    wanted = {k: body.get(k) for k in ("instructedAmount", "creditorName", "creditorAccount")}
    for detail in request.token_info.authorization_details:
        if detail.get("type") == "payment_initiation" and {k: detail.get(k) for k in wanted} == wanted:
            # A demo: nothing moves.
            return JsonResponse({"status": "accepted", **wanted}, status=201)
    return JsonResponse(
        {"error": "forbidden", "error_description": "The payment is not the one the user authorized"}, status=403
    )
