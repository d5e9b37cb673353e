"""The userinfo endpoint with DPoP (RFC 9449 §7): DOT's UserInfoView behind the proof check."""

from __future__ import annotations

from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.decorators import method_decorator
from django.views.decorators.csrf import csrf_exempt

from ..oauth.challenges import MFAUserInfoView
from ..oauth.validators import access_tokens_read_once, load_access_token
from .resource import check, token_of


class _Binding:
    """What ``check`` needs to know of the token: the key it is bound to."""

    def __init__(self, jkt: str | None):
        self.jkt = jkt or None


def _jkt_of(token: str) -> str | None:
    # The validator's own lookup (its TokenLink and record joined), which DOT then reuses within
    # access_tokens_read_once(): the key binding costs no statement of its own.
    access_token = load_access_token(token)
    link = getattr(access_token, "mfa_authentication", None) if access_token is not None else None
    return (link.bound_jkt() or None) if link is not None else None  # a family's key, or a client token's


# DOT's UserInfoView carries these on its dispatch; an overriding dispatch must carry them again
# (a client call has no CSRF cookie and no session).
@method_decorator([csrf_exempt, login_not_required], name="dispatch")
class DPoPUserInfoView(MFAUserInfoView):
    """Userinfo (its RFC 6750 §3 answers: MFAUserInfoView) behind the DPoP proof check (RFC 9449 §7)."""

    def dispatch(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        # One request's reads of its access token: the binding's here and DOT's validation share one.
        with access_tokens_read_once():
            return self._dispatch(request, *args, **kwargs)

    def _dispatch(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
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
