"""What the client may tell the authorization endpoint about the user: OIDC Core §3.1.2.1.

- ``id_token_hint``: an ID Token this provider issued. A hint that is not one (bad signature, another
  issuer, unknown) is ``invalid_request``; a hint naming another user than the session's is answered
  ``login_required`` ("If the End-User identified by the ID Token is logged in or is logged in by the
  request, then the Authorization Server returns a positive response; otherwise, it SHOULD return an
  error, such as login_required").
- ``login_hint``: prefills the user name on the login page (a hint, never an identity).
- ``ui_locales``: the first of the user's preferred languages the site offers (``settings.LANGUAGES``)
  is used for the login and consent pages ("An error SHOULD NOT result if some or all of the requested
  locales are not supported by the OpenID Provider").
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, TypeVar
from urllib.parse import parse_qsl, urlsplit

from django.http import HttpRequest
from django.http.response import HttpResponseBase
from django.template.response import SimpleTemplateResponse
from django.utils import translation

from .. import par

_Response = TypeVar("_Response", bound=HttpResponseBase)

MAX_HINT = 4096  # an ID Token is a few hundred bytes; nothing longer is parsed
MAX_LOGIN_HINT = 150  # Django's username length


class HintError(Exception):
    """The ``id_token_hint`` is not an ID Token of this provider (OIDC Core §3.1.2.1)."""


def hinted_user_id(request: HttpRequest, id_token_hint: str):
    """The primary key of the user the hint names; :class:`HintError` when it is no ID Token of ours.

    DOT's own loader for RP-Initiated Logout (``oauth2_provider.views.oidc._load_id_token``) checks
    the signature against the provider's keys and finds the issued token; expired tokens are accepted
    as DOT accepts them there (the hint identifies a user, it authorizes nothing). The user comes from
    the stored token, not from ``sub``, so a pairwise ``sub`` changes nothing here."""
    from oauth2_provider.settings import oauth2_settings
    from oauth2_provider.views.oidc import _load_id_token

    if len(id_token_hint) > MAX_HINT or id_token_hint.count(".") != 2:
        raise HintError("The id_token_hint is not an ID Token")
    try:
        id_token, claims = _load_id_token(id_token_hint)
    except (ValueError, TypeError, KeyError, AttributeError):
        # DOT's loader lets a validly signed-looking token with an unparseable payload through to
        # json.loads (a 500): such a hint is simply not an ID Token.
        raise HintError("The id_token_hint is not an ID Token") from None
    if id_token is None or not isinstance(claims, dict) or claims.get("iss") != oauth2_settings.oidc_issuer(request):
        raise HintError("The id_token_hint was not issued by this provider")
    return id_token.user_id


def _query(next_url: str, request: HttpRequest | None) -> dict[str, str]:
    # A pushed request's URL carries only client_id and request_uri (RFC 9126 §4): its hints are in
    # this browser's session copy of the pushed parameters (mfa_oauth.par.query_of).
    if request is not None:
        return par.query_of(request, next_url)
    return dict(parse_qsl(urlsplit(next_url).query))


def login_hint_from(next_url: str | None, request: HttpRequest | None = None) -> str:
    """The ``login_hint`` of the authorization request a login page continues (``next``)."""
    if not next_url:
        return ""
    return _query(next_url, request).get("login_hint", "")[:MAX_LOGIN_HINT]


def ui_locales_from(next_url: str | None, request: HttpRequest | None = None) -> str:
    if not next_url:
        return ""
    return _query(next_url, request).get("ui_locales", "")


def supported_language(ui_locales: str) -> str | None:
    """The first tag of ``ui_locales`` (space-separated BCP 47 tags) the site offers, or None."""
    for tag in ui_locales.split()[:10]:
        try:
            return translation.get_supported_language_variant(tag.lower())
        except LookupError:
            continue
    return None


@contextmanager
def _language(language: str | None) -> Iterator[None]:
    if language is None:
        yield
        return
    with translation.override(language):
        yield


def in_ui_locales(value: str | None, respond: Callable[[], _Response]) -> _Response:
    """``respond()``, rendered in the language ``ui_locales`` asks for when the site offers it.

    A TemplateResponse renders after the view returns, so it is rendered here, inside."""
    language = supported_language(value or "")
    with _language(language):
        response = respond()
        if language is not None:
            if isinstance(response, SimpleTemplateResponse) and not response.is_rendered:
                response.render()
            response.setdefault("Content-Language", language)
    return response


if TYPE_CHECKING:  # a mixin for LoginView: type-check it as one
    from django.contrib.auth.views import LoginView as _LoginViewBase
else:
    _LoginViewBase = object


class LoginHintsMixin(_LoginViewBase):
    """For a login view: ``login_hint`` prefills the user name, ``ui_locales`` picks the language,
    both read from the authorization request the login continues (``next``)."""

    request: HttpRequest

    def _next_url(self) -> str:
        return self.request.POST.get("next") or self.request.GET.get("next") or ""

    def dispatch(self, request, *args, **kwargs):
        self.request = request
        return in_ui_locales(
            ui_locales_from(self._next_url(), request),
            lambda: super(LoginHintsMixin, self).dispatch(request, *args, **kwargs),
        )

    def get_initial(self):
        initial = super().get_initial()
        hint = login_hint_from(self._next_url(), self.request)
        if hint:
            initial.setdefault("username", hint)  # a form that renders its fields shows it prefilled
        return initial

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["login_hint"] = login_hint_from(self._next_url(), self.request)  # for templates that write the input
        return context


def journey_ui_locales(next_url: str | None, depth: int = 3, request: HttpRequest | None = None) -> str:
    """``ui_locales`` of the authorization request a page continues, following nested ``next`` URLs
    (challenge → enrollment → back to the challenge → the authorization request)."""
    for _level in range(depth):
        if not next_url:
            return ""
        query = _query(next_url, request)
        if "ui_locales" in query:
            return query["ui_locales"]
        next_url = query.get("next")
    return ""


class UILocalesMiddleware:
    """OIDC Core §3.1.2.1 ``ui_locales`` for the rest of the journey: a page that continues an
    authorization request (its ``next``: the second-factor challenge, enrollment, the security page)
    renders in the language the request asked for, as the login and consent pages do. Goes after
    Django's LocaleMiddleware, which it overrides only for such pages; a ``ui_locales`` the site does not
    offer changes nothing ("An error SHOULD NOT result")."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        next_url = request.GET.get("next")
        if not next_url and request.content_type == "application/x-www-form-urlencoded":
            next_url = request.POST.get("next")  # a form post; never parse other bodies (JSON, multipart)
        wanted = journey_ui_locales(next_url[:MAX_HINT] if next_url else None, request=request)
        if not wanted:
            return self.get_response(request)
        return in_ui_locales(wanted, lambda: self.get_response(request))
