"""OAuth2Validator subclass (DOT's documented extension point, ``OAUTH2_VALIDATOR_CLASS``).

It carries the authentication context from the authorization code to every token, puts
``acr``/``amr``/``auth_time`` in id_tokens and userinfo, and implements the silent-login hooks
DOT leaves unimplemented (``prompt=none`` would otherwise answer with a 500).
"""

from __future__ import annotations

import contextvars
import hashlib
import json
from datetime import datetime
from datetime import timezone as dt_timezone
from typing import Any, cast
from urllib.parse import urlparse

from django.apps import apps
from django.core.exceptions import PermissionDenied
from django.db import router, transaction
from jwcrypto import jws, jwt
from oauth2_provider import cimd
from oauth2_provider.models import get_access_token_model, get_application_model, get_grant_model, get_id_token_model
from oauth2_provider.oauth2_validators import OAuth2Validator
from oauthlib.oauth2.rfc6749 import errors
from oauthlib.oauth2.rfc6749 import errors as oauth2_errors

from .. import client_auth, clients, dpop, rar
from ..adapter import get_adapter
from ..context import AuthContext, level_for_acr
from ..fapi import profile as fapi_profile
from ..lookups import CompiledLookup, unique_or_none
from ..models import AuthenticationRecord, LegacyRefreshToken, TokenLink, UpgradeMark
from ..policy import _essential_acr
from ..read_once import ReadOnce
from ..signals import tokens_issued
from . import claims as claims_module
from . import code_rules, gate, signing
from .nul import NUL
from .subject import subject_identifier

Application = get_application_model()
# The token request's two reads by a unique text column (the grant by its code, with its user; the
# login's record by the code's digest), their SQL compiled once per process (mfa_oauth.lookups).
_grant_by_code = CompiledLookup(lambda model, code: model.objects.select_related("user").filter(code=code))
_record_by_digest = CompiledLookup(lambda _key, digest: AuthenticationRecord.objects.filter(code_digest=digest))
AccessToken = get_access_token_model()
IDToken = get_id_token_model()

# The id_token this request has just signed and stored (finalize_id_token), for _load_id_token: DOT
# would otherwise decode it, load the client by its aud, verify our own signature and read the row back.
_ISSUED_ID_TOKEN: contextvars.ContextVar[tuple[str, object] | None] = contextvars.ContextVar(
    "mfa_oauth_issued_id_token", default=None
)
_NO_GRANT = object()
# Access tokens created while mfa_oauth.oauth.token.MFATokenView answers (it sets a list), so the view
# signals app_authorized with the instance instead of reading it back by its checksum as DOT does.
ISSUED_ACCESS_TOKENS: contextvars.ContextVar[list | None] = contextvars.ContextVar(
    "mfa_oauth_issued_access_tokens", default=None
)


# The access tokens a request has read already (mfa_oauth.dpop's userinfo reads its token for the key
# binding before DOT validates it), by checksum, only within access_tokens_read_once().
_ACCESS_TOKENS = ReadOnce("mfa_oauth_read_access_tokens")
access_tokens_read_once = _ACCESS_TOKENS.scope


def load_access_token(token: str):
    """The access token row of ``token`` (None: none), with its user, its client's policy and its
    authentication record (TokenLink) joined: one SELECT."""
    checksum = hashlib.sha256(token.encode("utf-8")).hexdigest()
    return _ACCESS_TOKENS.get(
        checksum,
        lambda: unique_or_none(
            AccessToken.objects.select_related("application__mfa_policy", "user", "mfa_authentication__record").filter(
                token_checksum=checksum
            )
        ),
    )


def _link_of(access_token) -> TokenLink | None:
    """The token's TokenLink: the one load_access_token joined (None: it has none), else read (with its record)."""
    joined = getattr(type(access_token), "mfa_authentication", None)
    if joined is not None and joined.is_cached(access_token):
        return getattr(access_token, "mfa_authentication", None)  # a missing row raises an AttributeError
    return unique_or_none(TokenLink.objects.select_related("record").filter(access_token=access_token))


def _is_loopback(uri: str) -> bool:
    host = urlparse(uri).hostname or ""
    return host in ("127.0.0.1", "::1")


def _acr_for_claims(context: AuthContext, claims) -> str:
    """The acr to record: the achieved one, unless the claims parameter made acr essential.

    OIDC Core §5.5.1.1: with ``"acr": {"essential": true, "values": [...]}`` the acr returned MUST
    be one of the values. The gate only lets the request through when the session reached one of
    them, so the strongest requested value at or below the achieved level is reported (a
    phishing-resistant login asked for "mfa" is reported as "mfa", never as a value not asked for).
    """
    values, _error = _essential_acr(claims) if claims else ((), "")
    known = sorted((lvl, v) for v in values if (lvl := level_for_acr(v)) is not None and lvl <= context.level)
    return known[-1][1] if known else context.acr


# RFC 6749 §4.1.3 redirect_uri rules and §4.1.2 code replay: validate_code and confirm_redirect_uri (code_rules.py).
class MFAOAuth2Validator(OAuth2Validator):
    oidc_claim_scope = {**OAuth2Validator.oidc_claim_scope, "acr": "openid", "amr": "openid", "auth_time": "openid"}

    # --- client authentication ----------------------------------------------------------------

    def _authenticate_basic_auth(self, request):
        # DOT 3.4.1 passes the header to base64.b64decode() as text, which raises ValueError (a 500 at
        # the token, introspection and revocation endpoints) for non-ASCII text: header bytes 0x80-0xff
        # reach Django as latin-1 characters. Such a header is not valid client authentication.
        auth_string = self._extract_basic_auth(request)
        if auth_string and not auth_string.isascii():
            return False
        return super()._authenticate_basic_auth(request)

    # --- private_key_jwt (RFC 7523 §2.2; mfa_oauth.client_auth, docs/fapi.md) -------------------
    # oauthlib asks these two at the token, revocation and introspection endpoints, and the PAR
    # endpoint asks them too: the one documented hook for every client-authenticating endpoint.

    def client_authentication_required(self, request, *args, **kwargs):
        if client_auth.has_assertion(request):
            return True
        return super().client_authentication_required(request, *args, **kwargs)

    def authenticate_client(self, request, *args, **kwargs):
        if client_auth.has_assertion(request):
            # RFC 6749 §2.3: one authentication method per request, never a secret beside an assertion.
            if self._extract_basic_auth(request) or getattr(request, "client_secret", None):
                return False
            return client_auth.authenticate(request)
        if not super().authenticate_client(request, *args, **kwargs):
            return False
        # A client registered for private_key_jwt is not accepted with its secret (FAPI 2.0 §5.3.2.1).
        return not client_auth.requires_assertion(request.client)

    # --- authorization endpoint ---------------------------------------------------------------

    def _load_application(self, client_id, request):
        if isinstance(client_id, str) and NUL in client_id:
            # A client id decoded from HTTP Basic credentials can carry NUL, which PostgreSQL refuses
            # in a query (DataError, a 500); no client has such an id (mfa_oauth.oauth.nul).
            return None
        # DOT's cache hook: a request.client already set is reused (after DOT's own checks), so the
        # application the authorization view loaded for its gate costs no second query.
        state = gate.current()
        loaded = state.application if state is not None else None
        if not request.client and loaded is not None and loaded.client_id == client_id:
            request.client = loaded
        if not request.client and isinstance(client_id, str) and 0 < len(client_id) <= 200:
            # The token endpoint: load the client with its policy (its subject type, OIDC Core §8) and its
            # security profile (private_key_jwt, PAR; mfa_oauth.client_auth) in the one statement DOT would
            # spend (its SQL compiled once: mfa_oauth.clients); DOT's checks still run on it in super().
            found = clients.by_client_id(client_id)
            if found is not None:
                request.client = cimd.refresh_if_stale(found, request=request)
        return super()._load_application(client_id, request)

    def _load_access_token(self, token):
        # DOT's lookup (userinfo, bearer-protected views), with the client's policy (userinfo's sub
        # depends on its subject type, OIDC Core §8) and the token's authentication (acr/amr/auth_time,
        # a DPoP binding) in the same statement; read once within access_tokens_read_once().
        return load_access_token(token)

    def validate_redirect_uri(self, client_id, redirect_uri, request, *args, **kwargs):
        # Exact string comparison (RFC 9700 §2.1, OIDC Core §3.1.2.1): DOT also accepts a host that
        # differs in letter case and, for loopback IPs, any port; only the latter is kept (RFC 8252 §7.3).
        if not super().validate_redirect_uri(client_id, redirect_uri, request, *args, **kwargs):
            return False
        registered = request.client.redirect_uris.split()
        return redirect_uri in registered or _is_loopback(redirect_uri)

    def validate_silent_login(self, request) -> bool:
        state = gate.current()
        return bool(state and state.decision.satisfied)

    def validate_silent_authorization(self, request) -> bool:
        state = gate.current()
        return bool(state and state.decision.satisfied and state.consent_given)

    def _create_authorization_code(self, request, code, expires=None):
        # Fail closed: a code exists only when the gate approved this very request and the view
        # handed over the context it approved (docs/security.md, "Deny by default").
        context: AuthContext | None = gate.approved_context()
        if context is None or getattr(request, "mfa_context", None) is not context:
            raise PermissionDenied("mfa_oauth: authorization code requested without the gate's approval")
        try:
            # Validated by the gate already (OIDC Core §5.5); stored so that every token of this
            # code answers the claims the user approved.
            claims_request = claims_module.parse_claims_parameter(getattr(request, "claims", None))
        except claims_module.InvalidClaimsRequest:
            raise PermissionDenied("mfa_oauth: malformed claims parameter past the gate") from None
        grant = super()._create_authorization_code(request, code, expires)
        AuthenticationRecord.objects.create(
            user=grant.user,
            auth_time=datetime.fromtimestamp(context.auth_time, tz=dt_timezone.utc),
            acr=_acr_for_claims(context, claims_request),
            amr=context.amr,
            code_digest=AuthenticationRecord.digest(code["code"]),
            # RFC 9449 §10: the code is bound to the key named by dpop_jkt (checked in mfa_oauth.par
            # and at the token endpoint, validate_code).
            dpop_jkt=dpop.requested_jkt(request),
            # RFC 9396: the details the consent page showed (checked again here).
            authorization_details=rar.parse(getattr(request, "authorization_details", None), request.client),
            claims_request=claims_request,
        )
        return grant

    # --- token endpoint -----------------------------------------------------------------------

    # DOT reads the grant row once per question oauthlib asks about it (scopes, code, challenge,
    # challenge method, redirect URI, nonce): one read per token request, with its user, answers them
    # all. Each answer applies DOT's own condition (the code, and where DOT asks it the client); the
    # single-use guarantee stays with invalidate_authorization_code's DELETE (its row count).

    def _grant(self, code, request, client=None):
        """The grant of ``code`` (None: none), read once per request; with ``client``: only that client's."""
        cached = getattr(request, "_mfa_oauth_grant", None)
        if cached is None or cached[0] != code:
            grant = (
                _grant_by_code.get(code, key=get_grant_model())
                if isinstance(code, str)
                else unique_or_none(get_grant_model().objects.select_related("user").filter(code=code))
            )
            cached = (code, grant or _NO_GRANT)
            request._mfa_oauth_grant = cached
        found = cached[1]
        if found is _NO_GRANT:
            return None
        grant = cast(Any, found)
        if client is not None and grant.application_id != client.pk:
            return None
        return grant

    def get_authorization_code_scopes(self, client_id, code, redirect_uri, request):
        grant = self._grant(code, request)
        return grant.scope.split() if grant is not None and grant.scope else []

    def get_authorization_code_nonce(self, client_id, code, redirect_uri, request):
        grant = self._grant(code, request)
        return (grant.nonce or None) if grant is not None else None

    def get_code_challenge(self, code, request):
        grant = self._grant(code, request, request.client)
        if grant is None:  # DOT's Grant.objects.get raises; oauthlib answers invalid_grant
            raise errors.InvalidGrantError(request=request)
        return grant.code_challenge or None

    def get_code_challenge_method(self, code, request):
        grant = self._grant(code, request, request.client)
        if grant is None:
            raise errors.InvalidGrantError(request=request)
        return grant.code_challenge_method or None

    def confirm_redirect_uri(self, client_id, code, redirect_uri, client, request=None, *args, **kwargs):
        code_rules.require_repeated_redirect_uri(request, client)  # RFC 6749 §4.1.3
        grant = self._grant(code, request, client) if request is not None else None
        if grant is None:
            allowed = super().confirm_redirect_uri(client_id, code, redirect_uri, client, request, *args, **kwargs)
        else:
            allowed = grant.redirect_uri_allowed(redirect_uri)
        if not allowed:
            code_rules.refuse_other_redirect_uri(request)  # RFC 6749 §5.2: invalid_grant
        return True

    def _check_and_set_request_resource(self, request):
        # RFC 8707 §2.2 at the token endpoint (DOT's hook, called by save_bearer_token): DOT reads the
        # grant once more to learn its resources. A code whose grant (the one read, self._grant) names
        # none gets DOT's own checks of the requested resources without that read; a grant with
        # resources, or none found, goes through DOT's code as it is.
        grant = None
        if request.grant_type == "authorization_code" and request.client is not None:
            grant = self._grant(request.code, request, request.client)
        if grant is None or grant.resource:
            return super()._check_and_set_request_resource(request)
        resource = getattr(request, "resource", None)
        if isinstance(resource, str):
            # oauthlib keeps the last of repeated body parameters; RFC 8707 allows several.
            repeated = [value for key, value in (getattr(request, "decoded_body", None) or []) if key == "resource"]
            if len(repeated) > 1:
                resource = repeated
        if isinstance(resource, list):
            request.resource = resource
        elif isinstance(resource, str) and resource.strip():
            request.resource = [resource]
        else:
            request.resource = []
        self._validate_resource_uris(request, request.resource)

    def invalidate_authorization_code(self, client_id, code, request, *args, **kwargs):
        grant = self._grant(code, request, request.client)
        if grant is None:
            raise errors.InvalidGrantError(request=request)
        # One DELETE by primary key (Django's fast delete of one instance: no transaction of its own);
        # its row count is the single-use check, as DOT's: a concurrent redemption deleted it first.
        deleted, _ = grant.delete()
        if not deleted:
            raise errors.InvalidGrantError(request=request)

    def validate_code(self, client_id, code, client, request, *args, **kwargs):
        grant = self._grant(code, request, client)
        if grant is None or grant.is_expired():
            # RFC 6749 §4.1.2: a code used twice (or unknown, or expired) is refused, and the tokens
            # issued from its first redemption are revoked (mfa_oauth.oauth.code_rules).
            code_rules.revoke_tokens_of_code(code)
            return False
        # DOT's validate_code, from the one read.
        request.scopes = grant.scope.split(" ")
        request.user = grant.user
        if grant.nonce:
            request.nonce = grant.nonce
        if grant.claims:
            import json

            request.claims = json.loads(grant.claims)
        record = _record_by_digest.get(AuthenticationRecord.digest(code))
        if record is None:
            # A code plain DOT issued before mfa_oauth was installed: redeemed with an unknown context.
            # Any later code without a record is refused (docs/adoption.md, "Upgrading from plain DOT").
            mark = UpgradeMark.current()
            if mark is None or not mark.grant_max_pk:
                return False
            if grant.pk > mark.grant_max_pk:  # the grant read above, this client's (self._grant)
                return False
            request.mfa_legacy = True
            return True
        if record.dpop_jkt and record.dpop_jkt != dpop.bound_key():
            return False  # RFC 9449 §10.1: a code bound to a key is redeemed only with a proof by that key
        if fapi_profile.applies_to(client) and fapi_profile.code_too_old(record):
            return False  # FAPI 2.0 §5.3.2.1 point 11: codes live at most 60 s
        request.mfa_record = record
        return True

    def validate_refresh_token(self, refresh_token, client, request, *args, **kwargs):
        if not super().validate_refresh_token(refresh_token, client, request, *args, **kwargs):
            return False
        link = TokenLink.objects.select_related("record").filter(refresh_token=request.refresh_token_instance).first()
        record = link.record if link is not None else None  # only client tokens' rows lack one, never refreshable
        if record is None:
            # Issued by plain DOT before the install, or rotated from such a token: refreshed with the
            # same unknown context, never an upgraded one (docs/adoption.md).
            if not self._predates_install(request.refresh_token_instance):
                return False
            request.mfa_legacy = True
            return True
        if record.dpop_jkt and record.dpop_jkt != dpop.bound_key():
            return False  # RFC 9449 §5: a refresh token bound to a key needs a proof by that key
        requested = getattr(request, "authorization_details", None)
        if requested is not None and rar.parse(requested, client) != record.authorization_details:
            # RFC 9396 §6: the details of a refresh are those granted, never wider (nor narrowed here).
            raise rar.InvalidAuthorizationDetails(
                description="A refresh keeps the granted authorization_details", request=request
            )
        # Refresh never upgrades the context: the new tokens point at the same record.
        request.mfa_record = record
        return True

    @staticmethod
    def _predates_install(refresh_token) -> bool:
        if LegacyRefreshToken.objects.filter(refresh_token=refresh_token).exists():
            return True
        mark = UpgradeMark.current()
        return mark is not None and refresh_token.pk <= mark.refresh_token_max_pk

    def validate_device_code(self, client_id, code, request, *args, **kwargs):
        # oauthlib 4 asks the validator (DOT 3.4.1 does not implement it). The approval in the
        # browser passed the MFA gate and froze its AuthenticationRecord (mfa_oauth.device).
        if not apps.is_installed("mfa_oauth.device"):
            return False  # no approval can exist without the app (its models are not even importable)
        from ..device.flows import redeem

        client = getattr(request, "client", None)
        return redeem(getattr(client, "client_id", None) or client_id, code, request)

    def finalize_id_token(self, id_token, token, token_handler, request):
        try:
            alg = signing.algorithm_for(request.client)
            if alg is not None:
                key = signing.signing_key(alg)
        except signing.NoSigningKey as missing:
            # Before anything is stored (oauthlib saves the tokens after this modifier): no token, no 500.
            # The admin refuses such a registration and system check mfa_oauth.E142 names it.
            raise oauth2_errors.UnauthorizedClientError(
                description=f"This server has no key to sign this client's id_tokens with {missing.alg}; "
                "its registration (id_token_signed_response_alg) must be fixed by the provider",
                request=request,
            ) from None
        if alg is None:
            signed = super().finalize_id_token(id_token, token, token_handler, request)
        else:
            signed = self._sign_id_token(id_token, token, request, key)
        _ISSUED_ID_TOKEN.set((signed, request.id_token))  # DOT sets request.id_token to the stored row
        return signed

    def _sign_id_token(self, id_token, token, request, key: signing.SigningKey) -> str:
        """DOT's finalize_id_token with a site key of another alg (FAPI 2.0 Security Profile §5.4.1):
        the same claims and stored row, ``kid`` in the header, and at_hash/c_hash with the alg's hash."""
        claims, expiration_time = self.get_id_token_dictionary(token, token_handler=None, request=request)
        id_token.update(**claims)
        if "nonce" not in id_token and request.nonce:  # as DOT does (oauthlib issue #746)
            id_token["nonce"] = request.nonce
        # OIDC Core §3.1.3.6 / §3.3.2.11: oauthlib hashed with SHA-256; EdDSA's hash is SHA-512.
        for claim, source in (("at_hash", "access_token"), ("c_hash", "code")):
            if claim in id_token and source in token:
                id_token[claim] = signing.half_hash(token[source], key.alg)
        header = {"typ": "JWT", "alg": key.alg, "kid": key.kid}
        signed = jwt.JWT(header=json.dumps(header), claims=json.dumps(id_token, default=str))
        signed.make_signed_token(key.jwk)
        with transaction.atomic(using=router.db_for_write(IDToken)):
            stored = self._save_id_token(id_token["jti"], request, expiration_time)
        request.access_token = stored  # as DOT: Django REST framework reads it
        request.id_token = stored
        return signed.serialize()

    def _get_key_for_token(self, token):
        # DOT's hook for id_token_hint and RP-Initiated Logout (and JWT bearer tokens): DOT loads the
        # client of aud and uses its RS256/HS256 key; a token signed with a site key of another alg is
        # verified with the key its kid names, and only for that alg.
        unverified = jws.JWS()
        unverified.deserialize(token)  # InvalidJWSObject for a malformed token, as DOT's own raises
        header = unverified.jose_header
        alg, kid = header.get("alg"), header.get("kid")
        if isinstance(kid, str) and alg in signing.SIGNING_ALGORITHMS:
            # DOT's rule first: the token names a client of this server in aud (a hint issued to nobody
            # here is no hint, whatever key signed it); then the site key its kid names.
            try:
                claims = json.loads(unverified.objects["payload"].decode("utf-8"))
            except (KeyError, UnicodeDecodeError, ValueError):
                return None
            if not isinstance(claims, dict) or "aud" not in claims or not self._get_client_by_audience(claims["aud"]):
                return None
            key = signing.verification_key(alg, kid)
            if key is not None:
                return key
        if alg == "HS256" or (alg == signing.RS256 and not kid):
            return super()._get_key_for_token(token)
        return None

    def _load_id_token(self, token):
        # The access token's id_token is the one finalize_id_token signed and stored in this request:
        # the same string is the same row (DOT: decode, load the client by aud, verify, read back).
        issued = _ISSUED_ID_TOKEN.get()
        if issued is not None and issued[0] == token:
            return issued[1]
        return super()._load_id_token(token)

    def _create_access_token(self, expires, request, token, source_refresh_token=None):
        try:
            access_token = super()._create_access_token(expires, request, token, source_refresh_token)
        finally:
            _ISSUED_ID_TOKEN.set(None)
        issued = ISSUED_ACCESS_TOKENS.get()
        if issued is not None:
            issued.append(access_token)
        record = getattr(request, "mfa_record", None)
        if record is not None:
            self._issued_for_record(record, access_token, token, request)
            if token.get("refresh_token"):
                # DOT creates the refresh token next, in this transaction: one link row for both.
                request.mfa_pending_link = access_token
            else:
                TokenLink.objects.create(access_token=access_token, record=record)
        elif jkt := dpop.bind_token():
            # RFC 9449 §5: a token without an authentication (client_credentials, a pre-install code)
            # is bound to the proof's key on a link row of its own, one INSERT and no read.
            TokenLink.objects.create(access_token=access_token, dpop_jkt=jkt)
        return access_token

    def _issued_for_record(self, record, access_token, token, request) -> None:
        # RFC 9449 §5: the token family is bound to the key of the proof (mfa_oauth.dpop).
        dpop.bind_record(record)
        if record.authorization_details:  # RFC 9396 §7: the token response says what was granted
            token["authorization_details"] = record.authorization_details
        tokens_issued.send(
            sender=type(self),
            request=None,
            user=access_token.user,
            application=request.client,
            acr=record.acr,
            amr=list(record.amr),
        )

    # --- refresh-token rotation per client (FAPI 2.0 Security Profile §5.3.2.1 point 9) -----------

    def rotate_refresh_token(self, request):
        # oauthlib's RequestValidator hook (BearerToken.create_token asks it, and DOT's _save_bearer_token):
        # a FAPI 2.0 client keeps its refresh token; the others follow the site's ROTATE_REFRESH_TOKEN.
        return fapi_profile.rotates_refresh_tokens(request.client, super().rotate_refresh_token(request))

    def _save_bearer_token(self, token, request, *args, **kwargs):
        previous = getattr(request, "refresh_token_instance", None)
        # DOT's own path for a kept refresh token: the refresh token's access-token row gets the new
        # value, so its TokenLink (and through it the AuthenticationRecord: acr, DPoP key, details) stays.
        kept = (
            request.grant_type == "refresh_token"
            and previous is not None
            and previous.access_token_id is not None
            and token.get("refresh_token") == request.refresh_token
            and not self.rotate_refresh_token(request)
        )
        super()._save_bearer_token(token, request, *args, **kwargs)
        record = getattr(request, "mfa_record", None)
        if kept and previous is not None and record is not None:
            _ISSUED_ID_TOKEN.set(None)
            # The same answers a rotated refresh gives: token_type DPoP, authorization_details, the signal.
            self._issued_for_record(record, previous.access_token, token, request)

    def _create_refresh_token(self, request, refresh_token_code, access_token, previous_refresh_token):
        refresh_token = super()._create_refresh_token(request, refresh_token_code, access_token, previous_refresh_token)
        record = getattr(request, "mfa_record", None)
        if record is not None:
            pending = getattr(request, "mfa_pending_link", None)
            request.mfa_pending_link = None
            # The pair just issued shares one row; a refresh token re-issued for an access token that
            # already has its row (DOT's grace-period path) gets a row of its own.
            TokenLink.objects.create(
                access_token=access_token if pending is access_token else None,
                refresh_token=refresh_token,
                record=record,
            )
        elif getattr(request, "mfa_legacy", False):
            LegacyRefreshToken.objects.create(refresh_token=refresh_token)
        return refresh_token

    # --- claims -------------------------------------------------------------------------------

    def _record_for(self, request) -> AuthenticationRecord | None:
        record = getattr(request, "mfa_record", None)
        if record is not None:
            return record
        access_token = getattr(request, "access_token", None)  # userinfo
        if access_token is not None and hasattr(access_token, "pk"):
            link = _link_of(access_token)
            if link is not None and link.record is not None:  # a client's bound token has none
                request.mfa_record = link.record
                return link.record
        return None

    def _claims_request(self, request) -> dict:
        """The claims parameter the user approved: stored on the record (every token of the code's
        family), else the one oauthlib parsed in this request."""
        record = self._record_for(request)
        if record is not None:
            return record.claims_request or {}
        try:
            return claims_module.parse_claims_parameter(getattr(request, "claims", None))
        except claims_module.InvalidClaimsRequest:
            return {}

    def get_claim_dict(self, request):
        # DOT's extension point for the claim set: the subject is public or pairwise per client
        # (OIDC Core §8; mfa_oauth.oauth.subject), the same value in id_token, userinfo and introspection.
        if self._get_additional_claims_is_request_agnostic():
            # A subclass may use DOT's other form, get_additional_claims(self) returning callables.
            claims = dict(self.get_additional_claims())  # type: ignore[call-arg]  # the subclass's own signature
        else:
            claims = dict(self.get_additional_claims(request))
        # Set last: no additional claim replaces the subject introspection and the gate also use.
        claims["sub"] = subject_identifier(request.user, request.client)
        return claims

    def get_additional_claims(self, request):
        # The user's standard claims through the project's hook (MFA_OAUTH["USER_CLAIMS"], OIDC Core
        # §5.1), and acr/amr/auth_time of the authentication that happened; released by scope below.
        claims = claims_module.user_claims(request.user, request.scopes or ())
        # The project's adapter may add claims (DefaultMFAOAuthAdapter.get_extra_claims); the subject and
        # phone_number_verified stay mfa_oauth's, and the record below writes acr/amr/auth_time last.
        extra = dict(get_adapter().get_extra_claims(request, request.user) or {})
        claims.update({k: v for k, v in extra.items() if k not in ("sub", "phone_number_verified")})
        record = self._record_for(request)
        if record is not None:
            claims.update(record.claims())
        return claims

    def _released_claims(self, request, member: str) -> dict:
        # OIDC Core §5.4 (scopes) and §5.5 (the claims parameter's id_token / userinfo member).
        claims = {k: v(request) if callable(v) else v for k, v in self.get_claim_dict(request).items()}
        released = claims_module.release(
            claims,
            scopes=request.scopes or (),
            claim_scope=self.oidc_claim_scope,
            requested=self._claims_request(request).get(member),
        )
        released["sub"] = claims["sub"]  # OIDC Core §2, §5.3.2: always present
        return released

    def get_oidc_claims(self, token, token_handler, request):
        # DOT calls this for the id_token (get_id_token_dictionary); userinfo is answered below.
        return self._released_claims(request, "id_token")

    def get_userinfo_claims(self, request):
        if request.user is None:
            # A client's own token (client_credentials) granted "openid": it names no end-user, so it
            # is not an access token the UserInfo endpoint serves (OIDC Core §5.3.3, RFC 6750 §3.1);
            # DOT would fail on it with a 500.
            raise oauth2_errors.InvalidTokenError(description="The access token was not issued for an end-user")
        return self._released_claims(request, "userinfo")

    def get_id_token_dictionary(self, token, token_handler, request):
        claims, expiration_time = super().get_id_token_dictionary(token, token_handler, request)
        record = self._record_for(request)
        if record is None and getattr(request, "mfa_legacy", False):
            # A pre-install code or refresh token: how the user signed in is unknown, so no acr, amr or
            # auth_time (DOT's auth_time is the user's last login, not this authentication's; OIDC
            # Core §2 makes all three optional unless asked for). docs/adoption.md.
            for claim in ("acr", "amr", "auth_time"):
                claims.pop(claim, None)
            return claims, expiration_time
        if record is None:
            raise RuntimeError("mfa_oauth: id_token requested without an authentication record")
        # DOT fills auth_time from user.last_login (per user, not per session): replace it.
        claims.update(record.claims())
        return claims, expiration_time
