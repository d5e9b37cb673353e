"""How an authorization response reaches the client: response mode and ``iss``.

Every response of the authorization endpoint that goes to the client's redirect URI (a code, or an
error once the client and redirect URI are trusted) passes through :func:`deliver`, called from the
authorization view's ``redirect()`` (DOT's hook for the final redirect of ``AuthorizationView``):

- RFC 9207 §2: the ``iss`` parameter is in every authorization response, errors included (DOT adds it
  to successful responses only; oauthlib's error redirects carry none).
- OAuth 2.0 Multiple Response Type Encoding Practices §2.1: ``response_mode=query`` (the default of
  ``response_type=code``) or ``fragment``.
- OAuth 2.0 Form Post Response Mode §2: ``response_mode=form_post`` answers with an HTML page whose
  form posts the parameters to the redirect URI. oauthlib knows only ``query`` and ``fragment`` and
  would fall back to ``query`` silently. The page has no inline script (the site's CSP,
  ``mfa_oauth.middleware``): a static script submits the form, and a ``noscript`` button does without.
"""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string
from oauth2_provider.http import OAuth2ResponseRedirect
from oauth2_provider.settings import oauth2_settings

# OAuth 2.0 Multiple Response Type Encoding Practices §2.1, OAuth 2.0 Form Post Response Mode §2.
RESPONSE_MODES = ("query", "fragment", "form_post")
DEFAULT_RESPONSE_MODE = "query"  # Multiple Response Type Encoding Practices §5: code's default
FORM_POST_TEMPLATE = "mfa_oauth/oauth/form_post.html"


def requested_mode(request: HttpRequest) -> str:
    """The response mode the request asked for (a consent POST carries it in the form or its URL)."""
    value = request.POST.get("response_mode") if request.method == "POST" else None
    value = value or request.GET.get("response_mode") or DEFAULT_RESPONSE_MODE
    return value if value in RESPONSE_MODES else DEFAULT_RESPONSE_MODE


def response_params(location: str, redirect_uri: str) -> list[tuple[str, str]]:
    """The parameters DOT/oauthlib added to ``redirect_uri`` to make ``location``.

    ``redirect_uri`` may carry a query of its own (RFC 6749 §3.1.2: it MUST be retained); that
    part is not a response parameter."""
    parts = urlsplit(location)
    own = parse_qsl(urlsplit(redirect_uri).query, keep_blank_values=True)
    added = []
    for pair in parse_qsl(parts.query, keep_blank_values=True):
        if pair in own:
            own.remove(pair)
        else:
            added.append(pair)
    added.extend(parse_qsl(parts.fragment, keep_blank_values=True))
    return added


def deliver(
    request: HttpRequest, location: str, redirect_uri: str, allowed_schemes: list[str], mode: str
) -> HttpResponse:
    """The response that takes ``location``'s parameters to ``redirect_uri`` in ``mode``, with ``iss``."""
    params = [(k, v) for k, v in response_params(location, redirect_uri) if k != "iss"]
    # RFC 9207 §2: the issuer identifier, as published in the metadata (RFC 8414 §2 "issuer").
    params.append(("iss", oauth2_settings.oauth2_authorization_server_issuer(request)))
    base = urlsplit(redirect_uri)
    # RFC 9207 §2 wants one unambiguous issuer: an "iss" the registered URI carries is dropped (as DOT
    # drops it from successful responses).
    own = [(k, v) for k, v in parse_qsl(base.query, keep_blank_values=True) if k != "iss"]
    base = base._replace(query=urlencode(own))
    if mode == "form_post":
        # Form Post Response Mode §2 (never to a scheme the client may not use, as for a redirect).
        if base.scheme.lower() not in [s.lower() for s in allowed_schemes]:
            return OAuth2ResponseRedirect(redirect_uri, allowed_schemes)  # raises DisallowedRedirect
        response = HttpResponse(
            render_to_string(FORM_POST_TEMPLATE, {"action": urlunsplit(base), "fields": params}, request=request)
        )
        # Form Post Response Mode §5 example: the page holds a code, no cache may keep it.
        response["Cache-Control"] = "no-store"
        response["Pragma"] = "no-cache"
        return response
    if mode == "fragment":
        url = urlunsplit(base._replace(fragment=urlencode(params)))
    else:
        query = "&".join(filter(None, [base.query, urlencode(params)]))
        url = urlunsplit(base._replace(query=query, fragment=""))
    return OAuth2ResponseRedirect(url, allowed_schemes)
