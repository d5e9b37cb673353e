"""Token-endpoint rules for authorization codes where oauthlib/DOT's defaults fall short.

Called by the validator (DOT's ``OAUTH2_VALIDATOR_CLASS`` extension point) from its oauthlib
``RequestValidator.confirm_redirect_uri`` and ``validate_code`` hooks:

- RFC 6749 §4.1.3: ``redirect_uri`` is "REQUIRED, if the "redirect_uri" parameter was included in
  the authorization request ..., and their values MUST be identical". oauthlib substitutes the
  client's default redirect URI for a missing one, so a token request without it succeeded; and a
  different one got ``invalid_request`` where §5.2 says ``invalid_grant`` ("...does not match the
  redirection URI used in the authorization request"). The authorization request carried one when
  the grant is for ``openid`` (OIDC Core §3.1.2.1: REQUIRED, enforced at the authorization
  endpoint) or the client registered several (RFC 6749 §3.1.2.3: then it MUST be included).
- RFC 6749 §4.1.2 / RFC 9700 §4.5.3.1 (code replay): "If an authorization code is used more than
  once, the authorization server MUST deny the request and SHOULD revoke (when possible) all tokens
  previously issued based on that authorization code." The code's
  :class:`~mfa_oauth.models.AuthenticationRecord` outlives the grant (DOT deletes the grant when it
  is redeemed) and every token of the family (refreshes included) links to it.
"""

from __future__ import annotations

import logging
from typing import Any

from django.db import transaction
from oauthlib.oauth2.rfc6749 import errors

from ..models import AuthenticationRecord, TokenLink

logger = logging.getLogger(__name__)


def revoke_tokens_of_code(code: str) -> int:
    """Revoke every token issued from ``code`` (and their refreshes); how many were revoked."""
    record = AuthenticationRecord.objects.filter(code_digest=AuthenticationRecord.digest(code)).first()
    if record is None:
        return 0
    revoked = 0
    with transaction.atomic():
        links = TokenLink.objects.filter(record=record)
        for link in links.select_related("refresh_token").exclude(refresh_token=None):
            refresh_token: Any = link.refresh_token  # not None: excluded above
            if refresh_token.revoked is None:
                refresh_token.revoke()  # DOT's revoke(): the refresh token and its access token
                revoked += 1
        # Read again: revoking a refresh token deleted its access token (and unset the link's side).
        for link in links.select_related("access_token").exclude(access_token=None):
            access_token: Any = link.access_token  # not None: excluded above
            access_token.revoke()
            revoked += 1
    if revoked:
        logger.warning("authorization code replayed: %d tokens issued from it revoked (RFC 6749 §4.1.2)", revoked)
    return revoked


def _had_redirect_uri(request, client) -> bool:
    scopes = getattr(request, "scopes", None) or []
    return "openid" in scopes or len((getattr(client, "redirect_uris", "") or "").split()) > 1


def require_repeated_redirect_uri(request, client) -> None:
    """RFC 6749 §4.1.3: "redirect_uri" is REQUIRED at the token endpoint "if the "redirect_uri"
    parameter was included in the authorization request"; invalid_request when it was left out."""
    if getattr(request, "using_default_redirect_uri", False) and _had_redirect_uri(request, client):
        raise errors.InvalidRequestError(
            description="Missing redirect_uri: the authorization request included one (RFC 6749 §4.1.3)",
            request=request,
        )


def refuse_other_redirect_uri(request) -> None:
    """RFC 6749 §5.2: a redirect URI that "does not match the redirection URI used in the authorization
    request" is invalid_grant (oauthlib would answer invalid_request)."""
    raise errors.InvalidGrantError(
        description="The redirect_uri differs from the authorization request's (RFC 6749 §4.1.3)",
        request=request,
    )
