"""Sets the trust cookie decided during the request (views and receivers cannot reach the response)."""

from __future__ import annotations

from typing import Any

from . import cookies
from .flows import REQUEST_ATTR

FORGET_ATTR = "_mfa_oauth_trust_forget"


class TrustedBrowserCookieMiddleware:
    def __init__(self, get_response: Any) -> None:
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        pending = getattr(request, REQUEST_ATTR, None)
        if pending is not None:
            value, max_age = pending
            cookies.set_on(response, value, max_age)
        elif getattr(request, FORGET_ATTR, False):
            cookies.delete_from(response)
        return response
