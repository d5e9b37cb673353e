"""Pushed Authorization Requests (RFC 9126).

The client POSTs its authorization request to ``/o/par/`` (authenticated like at the token
endpoint, :mod:`mfa_oauth.par.views`) and gets a ``request_uri``; the browser then carries only
``client_id`` and ``request_uri`` to ``/o/authorize/``, which takes every other parameter from here.

- **Bound to the client** (RFC 9126 §4): a ``request_uri`` is only accepted with the ``client_id``
  that pushed it.
- **Short-lived** (§2.2): ``PAR_LIFETIME`` seconds, at most 60, to reach the authorization endpoint.
- **Single use** (§4): the first browser that presents it claims it with one conditional UPDATE;
  the parameters then move into that browser's session, so the redirects through login, the second
  factor and the consent form keep working in that browser only, and every other use of the value
  (another browser, or anyone after the code was issued) is refused with ``invalid_request_uri``.
- **Off the front channel** (§1, §4): the server's own redirects and forms of a pushed request use its
  short URL (:func:`front_channel_url`), never the pushed parameters; the session copy stands for them.
- **Signed request objects** (§3) may carry the pushed request: :mod:`mfa_oauth.par.request_object`.
- **Swept** when expired (:mod:`mfa_oauth.par.sweep`, ``manage.py clear_pushed_authorizations``).
- ``request_uri`` values this server did not issue are refused (``invalid_request_uri``): request
  objects by reference are not fetched (RFC 9101 §5.2 leaves that to the server).
"""

from __future__ import annotations

import time
from urllib.parse import parse_qsl, urlencode, urlsplit

from django.utils import timezone

from ..conf import settings as mfa_settings

REQUEST_URI_PREFIX = "urn:ietf:params:oauth:request_uri:"
SESSION_KEY = "mfa_oauth.par"
# RFC 9126 §2.2 examples use 60 s; FAPI 2.0 §5.3.2.2 allows at most 600. Here never more than 60.
MAX_LIFETIME = 60
# Parameters a pushed request may not carry (RFC 9126 §2.1: request_uri; client credentials are
# consumed by the endpoint's client authentication and never stored).
CREDENTIAL_PARAMETERS = ("client_secret", "client_assertion", "client_assertion_type")


class PushedRequestError(Exception):
    def __init__(self, error: str, description: str):
        super().__init__(description)
        self.error = error
        self.description = description


def lifetime() -> int:
    return max(1, min(int(mfa_settings.PAR_LIFETIME), MAX_LIFETIME))


def required_for(application) -> bool:
    """Whether this client's authorization requests must come through the PAR endpoint (§5, §6)."""
    if mfa_settings.REQUIRE_PUSHED_AUTHORIZATION_REQUESTS:
        return True
    from ..fapi.profile import applies_to

    if applies_to(application):  # FAPI 2.0 §5.3.2.2 point 3
        return True
    try:
        profile = application.mfa_security
    except Exception:  # no ClientSecurityProfile
        return False
    return bool(profile.require_pushed_authorization_requests)


def is_pushed_request_uri(request_uri: str | None) -> bool:
    """Whether ``request_uri`` has the shape of this server's PAR references (RFC 9126 §2.2)."""
    return request_uri is not None and request_uri.startswith(REQUEST_URI_PREFIX)


def parameters_for_browser(request, client_id: str, request_uri: str) -> dict[str, str]:
    """The pushed parameters ``request_uri`` stands for, claimed for this browser's session."""
    from ..fapi.models import PushedAuthorization

    if not request_uri.startswith(REQUEST_URI_PREFIX) or len(request_uri) > 200:
        raise PushedRequestError(
            "invalid_request_uri", "Only request_uri values from this server's PAR endpoint are accepted"
        )
    reference = request_uri[len(REQUEST_URI_PREFIX) :]
    kept = held_parameters(request, client_id, request_uri)
    if kept is not None:
        return kept
    held = request.session.get(SESSION_KEY) or {}
    now = timezone.now()
    row = (
        PushedAuthorization.objects.filter(reference=reference, application__client_id=client_id)
        .only("pk", "parameters", "expires")
        .first()
    )
    if row is None or row.expires <= now:
        raise PushedRequestError("invalid_request_uri", "The request_uri is unknown, expired or for another client")
    if not PushedAuthorization.objects.filter(pk=row.pk, used_at__isnull=True).update(used_at=now):
        raise PushedRequestError("invalid_request_uri", "The request_uri was already used")
    # The browser then has the time a half-authenticated session has to finish the login. prompt=login
    # and max_age=0 ask for a new login once, at this first presentation (OIDC Core §3.1.2.1); the
    # requests that continue it (after that login) must not ask again, as the authorize view drops
    # them from the URL it continues with for a request that was not pushed.
    continued = dict(row.parameters)
    prompt = [p for p in continued.get("prompt", "").split() if p != "login"]
    if prompt:
        continued["prompt"] = " ".join(prompt)
    else:
        continued.pop("prompt", None)
    if continued.get("max_age") == "0":
        continued.pop("max_age")
    held[reference] = {
        "client_id": client_id,
        "parameters": continued,
        "until": time.time() + int(mfa_settings.PENDING_MFA_TIMEOUT),
    }
    request.session[SESSION_KEY] = held
    return dict(row.parameters)


def held_parameters(request, client_id: str | None, request_uri: str | None) -> dict[str, str] | None:
    """This browser's copy of the pushed request ``request_uri`` stands for, if it claimed it (else None).

    Reads the session only: nothing is claimed, so pages the authorization request continues (login,
    second factor) may read the request's ``login_hint`` and ``ui_locales`` from it."""
    session = getattr(request, "session", None)
    if session is None or not client_id or not is_pushed_request_uri(request_uri):
        return None
    entry = (session.get(SESSION_KEY) or {}).get(str(request_uri)[len(REQUEST_URI_PREFIX) :])
    if entry and entry.get("client_id") == client_id and entry.get("until", 0) > time.time():
        return dict(entry["parameters"])
    return None


def front_channel_url(path: str, client_id: str, request_uri: str) -> str:
    """The authorize URL a pushed request stands for in the browser: ``client_id`` and ``request_uri`` only.

    RFC 9126 §1 and §4: the pushed parameters stay off the front channel, also in this server's own
    redirects (login ``next``, the second factor, back to the authorization endpoint, the consent
    form's action); the browser's session copy stands in for them (:func:`parameters_for_browser`)."""
    return f"{path}?{urlencode({'client_id': client_id, 'request_uri': request_uri})}"


def query_of(request, url: str) -> dict[str, str]:
    """The parameters of a local URL's query; for a pushed request's short URL, those it stands for."""
    query = dict(parse_qsl(urlsplit(url).query))
    held = held_parameters(request, query.get("client_id"), query.get("request_uri"))
    return {**held, **query} if held is not None else query


def finish(request, request_uri: str | None) -> None:
    """Forget the session's copy once an authorization response (code or error) went out."""
    if not request_uri or not request_uri.startswith(REQUEST_URI_PREFIX):
        return
    held = request.session.get(SESSION_KEY) or {}
    if held.pop(request_uri[len(REQUEST_URI_PREFIX) :], None) is not None:
        request.session[SESSION_KEY] = held


def metadata(request, data: dict) -> dict:
    """Adds PAR (RFC 9126 §5) and private_key_jwt (RFC 8414 §2) to discovery / server metadata."""
    from django.urls import reverse

    data["pushed_authorization_request_endpoint"] = request.build_absolute_uri(reverse("oauth2_provider:par"))
    data["require_pushed_authorization_requests"] = bool(mfa_settings.REQUIRE_PUSHED_AUTHORIZATION_REQUESTS)
    # OIDC Discovery §3 / RFC 8414 §2: the algorithms of signed request objects, accepted at the PAR
    # endpoint only (RFC 9126 §3, mfa_oauth.par.request_object). request_parameter_supported stays
    # false: the authorization endpoint itself still refuses a request parameter (OIDC Core §6.1).
    data["request_object_signing_alg_values_supported"] = list(mfa_settings.REQUEST_OBJECT_ALGORITHMS)
    algorithms = list(mfa_settings.CLIENT_ASSERTION_ALGORITHMS)
    for endpoint in ("token", "revocation", "introspection"):
        if endpoint != "token" and f"{endpoint}_endpoint" not in data:
            continue
        methods = data.get(f"{endpoint}_endpoint_auth_methods_supported") or [
            "client_secret_basic",
            "client_secret_post",
        ]
        data[f"{endpoint}_endpoint_auth_methods_supported"] = [*methods, "private_key_jwt"]
        data[f"{endpoint}_endpoint_auth_signing_alg_values_supported"] = algorithms
    return data
