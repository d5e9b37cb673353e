"""What a resource server learns about a bearer token: active, scope, acr, amr, auth_time."""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass, field
from typing import Any, Protocol

from ..conf import settings as mfa_settings


@dataclass(frozen=True)
class TokenInfo:
    active: bool
    scope: frozenset[str] = frozenset()
    acr: str | None = None
    amr: tuple[str, ...] = ()
    auth_time: int | None = None
    client_id: str = ""
    username: str = ""
    exp: int | None = None
    # RFC 9449: the thumbprint of the DPoP key the token is bound to (introspection's cnf.jkt); None: bearer.
    jkt: str | None = None
    # RFC 9396 §9.1: the authorization details granted with the token (a tuple of JSON objects).
    authorization_details: tuple = ()
    # The DOT AccessToken when validated locally (None through introspection).
    token: Any = field(default=None, compare=False, repr=False)

    @classmethod
    def from_introspection(cls, data: dict[str, Any]) -> TokenInfo:
        """An RFC 7662 response, read defensively: anything malformed counts as absent."""
        if data.get("active") is not True:
            return cls(active=False)
        auth_time = data.get("auth_time")
        exp = data.get("exp")
        amr = data.get("amr")
        return cls(
            active=True,
            scope=frozenset(str(data.get("scope") or "").split()),
            acr=data["acr"] if isinstance(data.get("acr"), str) else None,
            amr=tuple(str(v) for v in amr) if isinstance(amr, list) else (),
            auth_time=auth_time if isinstance(auth_time, int) and not isinstance(auth_time, bool) else None,
            client_id=str(data.get("client_id") or ""),
            username=str(data.get("username") or ""),
            exp=exp if isinstance(exp, int) and not isinstance(exp, bool) else None,
            jkt=_cnf_jkt(data.get("cnf")),
            authorization_details=_details(data.get("authorization_details")),
        )


def _details(value: Any) -> tuple:
    return (
        tuple(d for d in value if isinstance(d, dict) and isinstance(d.get("type"), str))
        if isinstance(value, list)
        else ()
    )


def _cnf_jkt(cnf: Any) -> str | None:
    jkt = cnf.get("jkt") if isinstance(cnf, dict) else None
    return jkt if isinstance(jkt, str) and jkt else None


class TokenValidator(Protocol):
    def inspect(self, token: str) -> TokenInfo: ...


class ValidatorUnavailable(Exception):
    """The authorization server could not be asked (network, 5xx): not the token's fault."""


class LocalValidator:
    """Reads DOT's AccessToken table (the resource server shares the IdP's database)."""

    def inspect(self, token: str) -> TokenInfo:
        from oauth2_provider.models import get_access_token_model

        from ..lookups import unique_or_none
        from ..models import TokenLink

        if not token or len(token) > 2048:
            return TokenInfo(active=False)
        checksum = hashlib.sha256(token.encode("utf-8")).hexdigest()
        # Both lookups are by a unique column (token_checksum, the one-to-one access_token): LIMIT 1
        # without first()'s ORDER BY (mfa_oauth.lookups).
        access_token = unique_or_none(
            get_access_token_model().objects.select_related("user", "application").filter(token_checksum=checksum)
        )
        if access_token is None or not access_token.is_valid():
            return TokenInfo(active=False)
        link = unique_or_none(TokenLink.objects.select_related("record").filter(access_token=access_token))
        record = link.record if link is not None else None  # None: a client's token (client_credentials)
        claims = record.claims() if record is not None else {}
        # RFC 9449: bound through the family's record, or a client's token through its own row.
        jkt = (link.bound_jkt() or None) if link is not None else None
        details = _details(record.authorization_details) if record is not None else ()
        return TokenInfo(
            active=True,
            scope=frozenset((access_token.scope or "").split()),
            acr=claims.get("acr"),
            amr=tuple(claims.get("amr", ())),
            auth_time=claims.get("auth_time"),
            client_id=access_token.application.client_id if access_token.application else "",
            username=access_token.user.get_username() if access_token.user else "",
            exp=int(access_token.expires.timestamp()),
            jkt=jkt,
            authorization_details=details,
            token=access_token,
        )


class IntrospectionValidator:
    """Asks the authorization server's RFC 7662 endpoint, authenticating as a client (Basic).

    That client must be one the authorization server lets learn about these tokens (on mfa_oauth:
    the tokens' own client, or a client registered as their resource server,
    ``mfa_oauth.oauth.resource_servers``); otherwise every token reads as inactive.
    """

    def __init__(self, url: str, client_id: str, client_secret: str, timeout: float = 5.0) -> None:
        self.url = url
        self.auth = (client_id, client_secret)
        self.timeout = timeout

    def inspect(self, token: str) -> TokenInfo:
        import requests

        if not token or len(token) > 2048:
            return TokenInfo(active=False)
        try:
            response = requests.post(self.url, data={"token": token}, auth=self.auth, timeout=self.timeout)
        except requests.RequestException as error:
            raise ValidatorUnavailable(str(error)) from error
        if response.status_code >= 500 or response.status_code in (401, 403):
            # 401/403: our own client credentials were refused, which is a configuration fault.
            raise ValidatorUnavailable(f"introspection answered {response.status_code}")
        try:
            data = response.json()
        except ValueError as error:
            raise ValidatorUnavailable("introspection answered something that is not JSON") from error
        info = TokenInfo.from_introspection(data if isinstance(data, dict) else {})
        if info.active and info.exp is not None and info.exp <= time.time():
            return TokenInfo(active=False)
        return info


def default_validator() -> TokenValidator:
    url = mfa_settings.RESOURCE_SERVER_INTROSPECTION_URL
    if not url:
        return LocalValidator()
    return IntrospectionValidator(
        url,
        mfa_settings.RESOURCE_SERVER_INTROSPECTION_CLIENT_ID,
        mfa_settings.RESOURCE_SERVER_INTROSPECTION_CLIENT_SECRET,
        float(mfa_settings.RESOURCE_SERVER_INTROSPECTION_TIMEOUT),
    )
