"""Token introspection (RFC 7662) that also says how the token's user authenticated.

RFC 9470 §6.2: a resource server that introspects tokens learns ``acr`` and ``auth_time`` from
the response; ``amr`` is added as well. The values come from the token's
:class:`~mfa_oauth.models.AuthenticationRecord`, the same record the id_token was built from,
so introspection and id_token always agree. Extension point: DOT's
``IntrospectTokenView.get_token_response``.

Only the client the token was issued to, or a client registered as a resource server for it
(:mod:`mfa_oauth.oauth.resource_servers`, RFC 7662 §4), learns about a token; any other caller
gets ``{"active": false}`` as for an unknown token (§2.2: nothing to tell a token scanner). The
caller is the confidential client that authenticated (DOT's ``authenticate_client``), or the client
of the bearer token with the ``introspection`` scope DOT accepts instead; a public client's
``client_id`` is no credential (§2.1), though DOT's validator lets a device-flow one through
without a secret.

Resource servers call this on every API request, so the token, its user, client and record, and
whether the caller may see it, are read with one statement; the fields DOT answers with are built
as DOT 3.4.1 builds them (``tests/stepup/test_introspection_fields.py`` compares the two answers,
so an upgrade of DOT that changes them fails there).
"""

from __future__ import annotations

import calendar
import hashlib
import logging
from typing import Any

from django.core.exceptions import ObjectDoesNotExist
from django.http import HttpRequest, JsonResponse
from oauth2_provider.models import AbstractApplication, get_access_token_model
from oauth2_provider.views import IntrospectTokenView
from oauthlib.common import Request as OauthlibRequest

from ..lookups import INTEGER_MARKER, TEXT_MARKER, CompiledLookup, unique_or_none
from .challenges import invalid_client
from .resource_servers import annotate_for, annotate_for_pk, may_introspect
from .subject import SUBJECT_PAIRWISE, subject_identifier, subject_type_of

logger = logging.getLogger(__name__)


def token_fields(token: Any) -> dict:
    """What DOT's introspection answers for an active token (RFC 7662 §2.2)."""
    data = {"active": True, "scope": token.scope, "exp": int(calendar.timegm(token.expires.timetuple()))}
    if token.application:
        data["client_id"] = token.application.client_id
    if token.user:
        data["username"] = token.user.get_username()
    if token.resource:  # RFC 8707 audiences
        data["aud"] = token.resource
    return data


def _tokens(model: Any, checksum: str) -> Any:
    return model.objects.select_related("user", "application__mfa_policy", "mfa_authentication__record").filter(
        token_checksum=checksum
    )


# The access token by its checksum, with what may_introspect needs about the caller, in one statement
# compiled once per process (mfa_oauth.lookups.CompiledLookup): every introspection request runs it.
_token_for_caller = CompiledLookup(
    lambda model, checksum, caller_pk: annotate_for_pk(_tokens(model, checksum), caller_pk),
    markers=(TEXT_MARKER, INTEGER_MARKER),
    prepare=(None, int),
)


class MFAIntrospectTokenView(IntrospectTokenView):
    caller = None  # the Application that authenticated this request

    def authenticate_client(self, request: HttpRequest) -> bool:
        # DOT's OAuthLibCore.authenticate_client answers a bool and drops the oauthlib request that
        # knows which client authenticated: the same two steps, keeping it.
        core = self.get_oauthlib_core()
        uri, http_method, body, headers = core._extract_params(request)
        oauthlib_request = OauthlibRequest(uri, http_method, body, headers)
        if not core.server.request_validator.authenticate_client(oauthlib_request):
            return False
        client = getattr(oauthlib_request, "client", None)
        if client is None or client.client_type != AbstractApplication.CLIENT_CONFIDENTIAL:
            return False  # then DOT tries a bearer token, else 403
        self.caller = client
        return True

    def verify_request(self, request):
        valid, oauthlib_request = super().verify_request(request)
        if valid:
            access_token = getattr(oauthlib_request, "access_token", None)
            self.caller = getattr(access_token, "application", None)
        return valid, oauthlib_request

    def unauthenticated_response(self, request, oauthlib_request=None):
        # RFC 7662 §2.3: a caller whose credentials are invalid gets 401 as in RFC 6749 §5.2.
        return invalid_client()

    def get(self, request, *args, **kwargs):
        return self.get_token_response(request.GET.get("token", None), caller=self.caller)

    def post(self, request, *args, **kwargs):
        return self.get_token_response(request.POST.get("token", None), caller=self.caller)

    @staticmethod
    def get_token_response(token_value=None, caller=None):
        if token_value is None:
            return IntrospectTokenView.get_token_response(token_value)  # DOT's invalid_request
        if caller is None:
            return JsonResponse({"active": False}, status=200)  # deny by default
        checksum = hashlib.sha256(token_value.encode("utf-8")).hexdigest()
        if caller.pk is not None:
            token = _token_for_caller.get(checksum, caller.pk, key=get_access_token_model())
        else:  # token_checksum is unique: LIMIT 1 without first()'s ORDER BY (mfa_oauth.lookups)
            token = unique_or_none(annotate_for(_tokens(get_access_token_model(), checksum), caller))
        if token is None or not token.is_valid():
            return JsonResponse({"active": False}, status=200)
        if not may_introspect(token, caller):
            # The caller hears "inactive"; the operator of a misregistered resource server hears why.
            logger.info(
                "introspection refused: client %s is not a resource server for tokens of client %s",
                caller.client_id,
                token.application.client_id if token.application else None,
            )
            return JsonResponse({"active": False}, status=200)
        data = token_fields(token)
        if token.user_id is not None:
            # RFC 7662 §2.2 "sub": the subject the token's client knows the user by, as in its
            # id_token and userinfo (OIDC Core §8). A pairwise client is not told the username,
            # which would link its users across sectors (docs/claims.md).
            data["sub"] = subject_identifier(token.user, token.application)
            if subject_type_of(token.application) == SUBJECT_PAIRWISE:
                data.pop("username", None)
        try:
            link = token.mfa_authentication  # read with the token (select_related above)
        except ObjectDoesNotExist:
            link = None
        if link is not None:
            record = link.record  # None: a client's own token (client_credentials), only its DPoP key
            if token.user_id is not None and record is not None:
                data.update(record.claims())
                if record.authorization_details:  # RFC 9396 §9.1
                    data["authorization_details"] = record.authorization_details
            jkt = link.bound_jkt()
            if jkt:  # RFC 9449 §6.2: the key a DPoP-bound token is bound to
                data["cnf"] = {"jkt": jkt}
                data["token_type"] = "DPoP"
        return JsonResponse(data)
