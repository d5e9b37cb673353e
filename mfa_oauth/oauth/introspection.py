"""Token introspection (RFC 7662) that also says how the token's user authenticated.

RFC 9470 §6.2: a resource server that introspects tokens learns ``acr`` and ``auth_time`` from
the response; ``amr`` is added as well. The values come from the token's
:class:`~mfa_oauth.models.AuthenticationRecord`, the same record the id_token was built from,
so introspection and id_token always agree. Extension point: DOT's ``IntrospectTokenView``.
"""

from __future__ import annotations

import hashlib
import json

from django.http import JsonResponse
from oauth2_provider.views import IntrospectTokenView

from ..models import AccessTokenAuthentication, AuthenticationRecord


def authentication_claims(token_value: str) -> dict:
    """acr/amr/auth_time of an access token, or {} when it has no record (client credentials)."""
    checksum = hashlib.sha256(token_value.encode("utf-8")).hexdigest()
    row = (
        AccessTokenAuthentication.objects.filter(access_token__token_checksum=checksum)
        .values_list("record__acr", "record__amr", "record__auth_time")
        .first()
    )
    if row is None:
        return {}
    acr, amr, auth_time = row
    return AuthenticationRecord(acr=acr, amr=amr, auth_time=auth_time).claims()


class MFAIntrospectTokenView(IntrospectTokenView):
    @staticmethod
    def get_token_response(token_value=None):
        response = IntrospectTokenView.get_token_response(token_value)
        if response.status_code != 200 or token_value is None:
            return response
        data = json.loads(response.content)
        if not data.get("active") or "username" not in data:
            return response  # inactive, or a client's own token (client_credentials): no user authenticated
        data.update(authentication_claims(token_value))
        return JsonResponse(data)
