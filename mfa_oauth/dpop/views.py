"""The userinfo endpoint with DPoP (RFC 9449 §7): DOT's UserInfoView behind the proof check."""

from __future__ import annotations

import hashlib

from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.decorators import method_decorator
from django.views.decorators.csrf import csrf_exempt

from ..oauth.challenges import MFAUserInfoView
from .resource import check, token_of


class _Binding:
    """What ``check`` needs to know of the token: the key it is bound to."""

    def __init__(self, jkt: str | None):
        self.jkt = jkt or None


def _jkt_of(token: str) -> str | None:
    from ..models import TokenLink

    checksum = hashlib.sha256(token.encode("utf-8")).hexdigest()
    row = (
        TokenLink.objects.filter(access_token__token_checksum=checksum)
        .values_list("record__dpop_jkt", "dpop_jkt")  # a family's key, or a client token's (no record)
        .first()
    )
    return (row[0] or row[1]) if row is not None else None


# DOT's UserInfoView carries these on its dispatch; an overriding dispatch must carry them again
# (a client call has no CSRF cookie and no session).
@method_decorator([csrf_exempt, login_not_required], name="dispatch")
class DPoPUserInfoView(MFAUserInfoView):
    """Userinfo (its RFC 6750 §3 answers: MFAUserInfoView) behind the DPoP proof check (RFC 9449 §7)."""

    def dispatch(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        authorization = request.META.get("HTTP_AUTHORIZATION", "")
        dpop_scheme, token = token_of(authorization) if authorization else (False, None)
        if token and len(token) <= 2048:
            refused = check(_Binding(_jkt_of(token)), token, dpop_scheme, request)
            if refused is not None:
                response = JsonResponse({"error": refused.error, "error_description": refused.description}, status=401)
                response["WWW-Authenticate"] = refused.challenge
                response["Cache-Control"] = "no-store"
                if refused.nonce:
                    response["DPoP-Nonce"] = refused.nonce
                return response
            if dpop_scheme:
                # The proof is verified; DOT (oauthlib) validates the token itself in the Bearer form.
                request.META["HTTP_AUTHORIZATION"] = f"Bearer {token}"
        return super().dispatch(request, *args, **kwargs)
