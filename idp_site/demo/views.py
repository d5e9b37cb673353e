from __future__ import annotations

import json
from datetime import datetime, timezone
from urllib.parse import urlencode

from django.conf import settings
from django.core import signing
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from .client import DemoClientError, OIDCClient, PendingLogin

PENDING_COOKIE = "demo_pending"
# The demo's tokens, in its own signed cookie like PENDING_COOKIE: a relying party's sign-in outlives
# the IdP session it shares this site with (a step-up abandoned half-way, "Not you? Start again" and
# an expired half-authenticated login all end that session). httponly, and only this browser's.
RESULT_COOKIE = "demo_result"
RESULT_MAX_AGE = 8 * 3600
SESSION_API = "demo.api"
# The sample resource server's operations (idp_site.api): name -> (path, HTTP method).
API_CALLS = {"balance": ("api/balance", "GET"), "transfer": ("api/transfer", "POST")}
SCOPE = "openid profile email balance transfer"
START_OPTIONS = ("acr_values", "max_age", "prompt")


def _client(request) -> OIDCClient:
    base = settings.DEMO_IDP_BASE_URL or request.build_absolute_uri("/")
    return OIDCClient(base, settings.DEMO_CLIENT_ID, settings.DEMO_CLIENT_SECRET)


@never_cache
def index(request):
    result = _result(request)
    claims = (result or {}).get("id_token_claims")
    readable = None
    if claims:
        readable = {
            "auth_time": datetime.fromtimestamp(claims["auth_time"], tz=timezone.utc)
            if "auth_time" in claims
            else None,
            "amr": ", ".join(claims.get("amr", [])),
        }
    return render(
        request,
        "demo/index.html",
        {
            "result": result,
            "claims": claims,
            "readable": readable,
            "error": request.session.pop("demo.error", ""),
            "api": request.session.get(SESSION_API),
        },
    )


def start(request):
    pending = PendingLogin.new(request.build_absolute_uri(reverse("demo:callback")))
    extra = {k: request.GET.get(k, "")[:200] for k in START_OPTIONS}
    client = _client(request)
    authorize = request.build_absolute_uri(reverse("oauth2_provider:authorize"))
    response = redirect(client.authorize_url(authorize, pending, scope=SCOPE, **extra))
    # The RP's state lives in its own signed cookie, not in the session it shares with the IdP on
    # this one site: prompt=login / max_age (step-up) log the IdP session out, which would lose it.
    # signing.dumps gives a URL-safe token: no quotes or commas that cookie jars mangle.
    response.set_cookie(
        PENDING_COOKIE,
        signing.dumps(pending.__dict__, salt=PENDING_COOKIE),
        max_age=600,
        httponly=True,
        samesite="Lax",
        secure=request.is_secure(),
    )
    return response


@never_cache
def callback(request):
    data = _pending(request)
    if not data or request.GET.get("state") != data.get("state"):
        return _fail(request, "The answer did not match a sign-in this browser started (state mismatch).")
    if "error" in request.GET:
        return _fail(request, f"The IdP answered {request.GET['error']}: {request.GET.get('error_description', '')}")
    code = request.GET.get("code")
    if not code:
        return _fail(request, "The IdP answered without a code.")
    try:
        tokens = _client(request).redeem(code, PendingLogin(**data))
    except DemoClientError as error:
        return _fail(request, str(error))
    request.session.pop(SESSION_API, None)  # an answer given to the previous token
    result = {
        "access_token": tokens.get("access_token"),
        "refresh_token": tokens.get("refresh_token"),
        "scope": tokens.get("scope"),
        "id_token_claims": tokens["id_token_claims"],
    }
    response = redirect("demo:index")
    response.set_cookie(
        RESULT_COOKIE,
        signing.dumps(result, salt=RESULT_COOKIE, compress=True),
        max_age=RESULT_MAX_AGE,
        httponly=True,
        samesite="Lax",
        secure=request.is_secure(),
    )
    return _done(response)


def forget(request):
    request.session.pop(SESSION_API, None)
    response = redirect("demo:index")
    response.delete_cookie(RESULT_COOKIE, samesite="Lax")
    return response


def _result(request) -> dict | None:
    try:
        data = signing.loads(request.COOKIES[RESULT_COOKIE], salt=RESULT_COOKIE, max_age=RESULT_MAX_AGE)
    except (KeyError, ValueError, signing.BadSignature):
        return None
    return data if isinstance(data, dict) and isinstance(data.get("id_token_claims"), dict) else None


@require_POST
def call_api(request, name: str):
    """Call the sample API with this demo's access token; a step-up challenge is shown with a link
    that starts a new authorization with the requested acr_values/max_age (RFC 9470 §4)."""
    if name not in API_CALLS:
        return _fail(request, "Unknown API operation.")
    token = (_result(request) or {}).get("access_token")
    if not token:
        return _fail(request, "Sign in first: there is no access token to call the API with.")
    path, method = API_CALLS[name]
    try:
        answer = _client(request).call_api(path, method, token)
    except DemoClientError as error:
        return _fail(request, str(error))
    step_up = answer.step_up
    request.session[SESSION_API] = {
        "name": name,
        "status": answer.status,
        "body": json.dumps(answer.body, indent=2, sort_keys=True),
        "www_authenticate": answer.www_authenticate,
        "step_up": step_up,
        "step_up_query": urlencode(step_up) if step_up else "",
    }
    return redirect("demo:index")


def _pending(request) -> dict | None:
    try:
        data = signing.loads(request.COOKIES[PENDING_COOKIE], salt=PENDING_COOKIE, max_age=600)
    except (KeyError, ValueError, signing.BadSignature):
        return None
    fields = {"state", "nonce", "verifier", "redirect_uri"}
    if not isinstance(data, dict) or set(data) != fields or not all(isinstance(v, str) for v in data.values()):
        return None
    return data


def _fail(request, message: str) -> HttpResponse:
    request.session["demo.error"] = message
    return _done(redirect("demo:index"))


def _done(response: HttpResponse) -> HttpResponse:
    response.delete_cookie(PENDING_COOKIE, samesite="Lax")  # single use
    return response
