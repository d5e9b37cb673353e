"""Where a password login started by the authorization endpoint goes next.

The login form posts with ``next`` = the /o/authorize/ URL; the authorization view, reached with a
password-only session, then redirects to the second-factor step: a whole request that does
nothing else. :func:`next_after_login` answers that second-factor URL at once, when the
authorization view would answer it, and ``next`` itself otherwise. It never skips a check: the
challenge returns to the authorization endpoint, which validates and decides everything again.
It only takes the shortcut for a request it can judge as the view would (a known client, a
registered redirect URI, no ``prompt`` or ``max_age``); anything else goes the long way.

Use it in a login view's ``get_success_url`` (``mfa_oauth.login.LoginView`` does; Django's
``LoginView`` has already checked ``next`` with ``url_has_allowed_host_and_scheme``).

:func:`answer_login` goes one step further, in the login view's ``form_valid``: when the login's
redirect points at the challenge, it answers the password POST with the challenge page itself, as
the verify view answers a GET of that URL (same view, same checks, same page), so the browser does
not come back for it. The page's form posts to ``/mfa/verify/`` (its ``action``), which stays the
challenge's only endpoint; every other way to the challenge is still a redirect there.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from urllib.parse import urlsplit

from django.http import HttpRequest, HttpResponse, QueryDict
from django.urls import Resolver404, resolve

from .. import clients
from ..context import get_context
from ..methods import devices_read_once
from ..policy import AuthRequest, EffectivePolicy, Outcome, gate_decision
from .views import FRESH_LOGIN_KEY, MFAAuthorizationView, challenge_url


def next_after_login(request: HttpRequest, next_url: str) -> str:
    """``next_url``, or the second-factor step the authorization endpoint would send the user to."""
    parts = urlsplit(next_url)
    if parts.scheme or parts.netloc or not _is_our_authorization_endpoint(parts.path):
        return next_url
    params = QueryDict(parts.query)
    if "prompt" in params or "max_age" in params or params.get("response_type") != "code":
        return next_url  # the authorization view's own handling (login again, errors)
    # With its remembered-browser policy: the challenge page this login is answered with offers it.
    application = clients.by_client_id(params.get("client_id"), browser_trust=True)
    redirect_uri = params.get("redirect_uri")
    if application is None or not redirect_uri or not application.redirect_uri_allowed(redirect_uri):
        return next_url  # the authorization view shows the error
    auth_request = AuthRequest.from_params(params)
    if auth_request.errors:
        return next_url
    decision, _context = gate_decision(
        request,
        application=application,
        context=get_context(request),
        policy=EffectivePolicy.for_application(application),
        auth_request=auth_request,
        allow_substitute=FRESH_LOGIN_KEY not in request.session,
    )
    if decision.outcome is not Outcome.SECOND_FACTOR:
        return next_url
    return challenge_url(next_url, decision)


def answer_login(request: HttpRequest, log_in: Callable[[], HttpResponse]) -> HttpResponse:
    """``log_in()`` (the login view's own form_valid), with the challenge page in place of its redirect
    to the challenge; any other answer as it is.

    The gate's decision (in ``next_after_login``) and the page read the user's devices and the client
    once: nothing between them adds or removes a device or changes the client
    (``mfa_oauth.methods.devices_read_once``, ``mfa_oauth.clients.read_once``)."""
    with devices_read_once(), clients.read_once():
        return _answer(request, log_in())


def _answer(request: HttpRequest, response: HttpResponse) -> HttpResponse:
    from ..verify.views import VerifyView

    location = response.get("Location", "") if response.status_code in (302, 303) else ""
    parts = urlsplit(location)
    if not location or parts.scheme or parts.netloc:
        return response
    try:
        match = resolve(parts.path)
    except Resolver404:
        return response
    if getattr(match.func, "view_class", None) is not VerifyView:
        return response
    # The GET the browser would send next, on the same session and user: the view decides everything
    # as it would then (never_cache, the half-authenticated state's limit, the eligible devices).
    challenge = copy.copy(request)
    challenge.method = "GET"
    challenge.path = challenge.path_info = parts.path
    challenge.META = {**request.META, "REQUEST_METHOD": "GET", "QUERY_STRING": parts.query}
    challenge.GET = QueryDict(parts.query)
    challenge.POST = QueryDict()
    challenge.resolver_match = match
    answer = match.func(challenge, *match.args, **match.kwargs)
    # The CSRF token rotated by the login lives in the copied META: the page's form carries it, and the
    # login request's own META (which CsrfViewMiddleware reads for the cookie) has the same secret.
    return answer


def _is_our_authorization_endpoint(path: str) -> bool:
    # Only mfa_oauth's own view decides as judged here (a site serving DOT's stock view there
    # asks for no second factor).
    try:
        view = resolve(path).func
    except Resolver404:
        return False
    view_class = getattr(view, "view_class", None)
    return isinstance(view_class, type) and issubclass(view_class, MFAAuthorizationView)
