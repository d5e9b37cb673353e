"""A sample bank API that demands different assurance per operation (RFC 9470 step-up).

Reading the balance needs any second factor; moving money needs the phishing-resistant level or a
second factor younger than five minutes. The tokens are validated with mfa_oauth.resource (locally,
or through introspection when MFA_OAUTH["RESOURCE_SERVER_INTROSPECTION_URL"] is set).
"""

from __future__ import annotations

from django.http import JsonResponse
from django.views.decorators.http import require_http_methods

from mfa_oauth.context import ACR_MFA, ACR_PHISHING_RESISTANT
from mfa_oauth.resource import Requirement, require_authentication

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
