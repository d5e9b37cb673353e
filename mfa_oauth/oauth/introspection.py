"""Token introspection (RFC 7662) that also says how the token's user authenticated.

RFC 9470 §6.2: a resource server that introspects tokens learns ``acr`` and ``auth_time`` from
the response; ``amr`` is added as well. The values come from the token's
:class:`~mfa_oauth.models.AuthenticationRecord`, the same record the id_token was built from,
so introspection and id_token always agree. Extension point: DOT's
``IntrospectTokenView.get_token_response``.

Resource servers call this on every API request, so the token, its user, client and record are
read with one statement; the fields DOT answers with are built as DOT 3.4.1 builds them
(``tests/stepup/test_introspection_fields.py`` compares the two answers, so an upgrade of DOT that
changes them fails there).
"""

from __future__ import annotations

import calendar
import hashlib

from django.core.exceptions import ObjectDoesNotExist
from django.http import JsonResponse
from oauth2_provider.models import get_access_token_model
from oauth2_provider.views import IntrospectTokenView


def token_fields(token) -> dict:
    """What DOT's introspection answers for an active token (RFC 7662 §2.2)."""
    data = {"active": True, "scope": token.scope, "exp": int(calendar.timegm(token.expires.timetuple()))}
    if token.application:
        data["client_id"] = token.application.client_id
    if token.user:
        data["username"] = token.user.get_username()
    if token.resource:  # RFC 8707 audiences
        data["aud"] = token.resource
    return data


class MFAIntrospectTokenView(IntrospectTokenView):
    @staticmethod
    def get_token_response(token_value=None):
        if token_value is None:
            return IntrospectTokenView.get_token_response(token_value)  # DOT's invalid_request
        checksum = hashlib.sha256(token_value.encode("utf-8")).hexdigest()
        token = (
            get_access_token_model()
            .objects.select_related("user", "application", "mfa_authentication__record")
            .filter(token_checksum=checksum)
            .first()
        )
        if token is None or not token.is_valid():
            return JsonResponse({"active": False}, status=200)
        data = token_fields(token)
        if token.user_id is not None:  # a client's own token (client_credentials) has no record
            try:
                data.update(token.mfa_authentication.record.claims())
            except ObjectDoesNotExist:
                pass
        return JsonResponse(data)
