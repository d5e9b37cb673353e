"""Headers every page of the provider carries: no framing, no cross-origin referrer, a strict CSP."""

from __future__ import annotations

from django.conf import settings

DEFAULT_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; frame-ancestors 'none'"
)


class SecurityHeadersMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response
        self.csp = getattr(settings, "MFA_OAUTH_CSP", DEFAULT_CSP)

    def __call__(self, request):
        response = self.get_response(request)
        if self.csp and "Content-Security-Policy" not in response:
            response["Content-Security-Policy"] = self.csp
        response.setdefault("X-Frame-Options", "DENY")
        # Never a referrer to another origin. Not "no-referrer": with it browsers send "Origin: null"
        # on same-origin form POSTs and Django's CSRF check refuses every login/MFA/consent form.
        response.setdefault("Referrer-Policy", getattr(settings, "SECURE_REFERRER_POLICY", None) or "same-origin")
        return response
