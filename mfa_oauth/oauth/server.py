"""The oauthlib server DOT runs, with only the flows that pass the second-factor gate.

DOT builds ``OAUTH2_SERVER_CLASS`` in both modes when it is set, and falls back to
``OIDC_SERVER_CLASS`` (``OIDC_ENABLED`` on) or oauthlib's plain server (off) when it is not (DOT's
documented extension points). One class serves both modes: set both settings to :class:`MFAServer`,
or with OIDC off oauthlib's server would hand out tokens through the password grant and the
implicit flow with no second factor. A system check (``mfa_oauth.E002``) refuses any other class,
for the mode the site runs in and for the other one.

What stays: the authorization code grant (the code is issued only after the gate said yes in the
same request, see :mod:`mfa_oauth.oauth.gate`), refresh tokens (they keep the code's context),
client credentials (no user at all) and the device authorization grant (approved in the browser
through the same gate). What goes:

- ``token``, ``id_token`` and the hybrid response types put tokens in the front channel straight
  from the authorization endpoint (RFC 9700 §2.1.2); ``none`` issues nothing a client could use.
- the password grant has no browser, so no gate (RFC 9700 §2.4).

oauthlib sends a response type it has no handler for to its *default* handler, the code grant,
which accepts anything containing ``code`` (``code id_token`` got a plain code). Here the default
handler refuses: after oauthlib's own checks of the client and redirect URI (errors about those are
shown, never redirected: RFC 6749 §4.1.2.1), the answer is ``unsupported_response_type``
(RFC 6749 §4.1.2.1, OAuth 2.0 Multiple Response Type Encoding Practices §5).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from django.apps import apps
from oauthlib.oauth2.rfc6749 import errors
from oauthlib.oauth2.rfc6749.grant_types import AuthorizationCodeGrant
from oauthlib.openid import Server as OpenIDServer

ACCEPTED_RESPONSE_TYPES = ("code",)
REMOVED_GRANT_TYPES = ("password",)
DEVICE_CODE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"  # RFC 8628 §3.4
# A response type that contains no "code": oauthlib's code grant answers it with
# unsupported_response_type once the client and redirect URI have been checked.
_NOT_A_CODE = "unsupported"


class RefusedResponseType(AuthorizationCodeGrant):
    """The handler for every response type this provider does not accept."""

    def validate_authorization_request(self, request: Any) -> None:  # oauthlib's Request
        original = request.response_type
        if original is not None:
            request.response_type = _NOT_A_CODE
        try:
            # oauthlib's own order: duplicate parameters, client_id, redirect_uri (fatal: shown to the
            # user), then the response type (redirected to the client's registered redirect URI).
            super().validate_authorization_request(request)
        finally:
            request.response_type = original
        # Unreachable while oauthlib keeps its checks; refuse rather than fall through.
        raise errors.UnsupportedResponseTypeError(request=request)

    def create_authorization_response(self, request: Any, token_handler: Any) -> None:
        self.validate_authorization_request(request)  # always raises
        raise errors.UnsupportedResponseTypeError(request=request)


class GatedFlows:
    """Keeps only the flows listed in the module docstring; see there for the reasons."""

    _response_types: dict
    _grant_types: dict

    def _keep_gated_flows(self, request_validator: Any) -> None:
        self._response_types = {k: v for k, v in self._response_types.items() if k in ACCEPTED_RESPONSE_TYPES}
        removed: tuple[str, ...] = REMOVED_GRANT_TYPES
        if not apps.is_installed("mfa_oauth.device"):
            # Without mfa_oauth.device no browser approval passes the gate, so no device code may be redeemed.
            removed = (*removed, DEVICE_CODE_GRANT)
        self._grant_types = {k: v for k, v in self._grant_types.items() if k not in removed}
        self._refusal = RefusedResponseType(request_validator)

    @property
    def default_response_type_handler(self):
        # oauthlib's AuthorizationEndpoint falls back to this for an unknown response_type.
        return self._refusal

    def __deepcopy__(self, memo):
        # oauthlib's OpenID Connect grant types cannot be deep-copied (their __getattr__ proxies to
        # proxy_target, which a copy in construction lacks: endless recursion), and Django's
        # TestCase deep-copies whatever setUpTestData stores. A server keeps no per-request
        # state (DOT shares one per view class, oauth2_provider.views.mixins), so it is its own copy.
        memo[id(self)] = self
        return self

    @property
    def accepted_response_types(self) -> list[str]:
        return list(self._response_types)

    @property
    def accepted_grant_types(self) -> list[str]:
        return list(self._grant_types)


class MFAServer(GatedFlows, OpenIDServer):
    """``OAUTH2_SERVER_CLASS`` and ``OIDC_SERVER_CLASS``: oauthlib's OpenID Connect server (a superset
    of its OAuth 2.0 server; its OIDC grants only act on the ``openid`` scope) with only the gated flows."""

    def __init__(self, request_validator: Any, *args: Any, **kwargs: Any) -> None:
        super().__init__(request_validator, *args, **kwargs)
        self._keep_gated_flows(request_validator)


def accepted_flows() -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The response types and grant types of the server DOT builds for this configuration
    (``OIDC_ENABLED`` picks the class). What a server accepts depends only on its class: one
    instance per class and validator is built, not one per discovery request."""
    from oauth2_provider.settings import oauth2_settings

    return _flows_of(oauth2_settings.OAUTH2_SERVER_CLASS, oauth2_settings.OAUTH2_VALIDATOR_CLASS)


@lru_cache(maxsize=8)
def _flows_of(server_class: Any, validator_class: Any) -> tuple[tuple[str, ...], tuple[str, ...]]:
    server = server_class(validator_class())
    if isinstance(server, GatedFlows):
        return tuple(server.accepted_response_types), tuple(server.accepted_grant_types)
    return tuple(server._response_types), tuple(server._grant_types)  # oauthlib's own (check E002)
