"""Headers every page of the provider carries: no framing, no cross-origin referrer, a strict CSP.

Referrer-Policy is ``same-origin`` rather than the ``no-referrer`` RFC 9700 §4.2.4 suggests: with ``no-referrer``
browsers send ``Origin: null`` on form posts, which Django's CSRF protection rightly refuses. With
``same-origin`` no other origin ever receives a Referer, so codes and state in URLs still never leak.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings

from .conf import settings as mfa_settings

DEFAULT_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; frame-ancestors 'none'"
)


class SecurityHeadersMiddleware:
    def __init__(self, get_response: Any) -> None:
        self.get_response = get_response
        csp = mfa_settings.CSP  # MFA_OAUTH["CSP"]; None: the strict default, "": no header
        self.csp = DEFAULT_CSP if csp is None else csp
        # Never "no-referrer" by default: Chromium then sends "Origin: null" on same-site form POSTs,
        # which Django's CSRF origin check refuses. same-origin still sends nothing cross-origin.
        self.referrer_policy = getattr(settings, "SECURE_REFERRER_POLICY", None) or "same-origin"

    def __call__(self, request):
        response = self.get_response(request)
        if self.csp and "Content-Security-Policy" not in response:
            response["Content-Security-Policy"] = self.csp
        response.setdefault("X-Frame-Options", "DENY")
        response.setdefault("Referrer-Policy", self.referrer_policy)
        return response
