"""Models of the FAPI 2.0 pieces: how a client authenticates and what it must use, and the pushed
authorization requests (RFC 9126) waiting for the browser."""

from __future__ import annotations

import json

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _
from oauth2_provider.settings import oauth2_settings


class TokenEndpointAuthMethod(models.TextChoices):
    # RFC 7591 §2 names. "Client secret" keeps DOT's own behaviour (HTTP Basic or the request body).
    CLIENT_SECRET = "client_secret_basic", _("Client secret (HTTP Basic or request body)")
    PRIVATE_KEY_JWT = "private_key_jwt", _("Signed JWT with the client's private key (RFC 7523)")


class IdTokenSigningAlg(models.TextChoices):
    # The JWS algorithms mfa_oauth.oauth.signing signs id_tokens with; FAPI 2.0 §5.4.1 allows the first three.
    PS256 = "PS256", "PS256"
    ES256 = "ES256", "ES256"
    EDDSA = "EdDSA", _("EdDSA (Ed25519)")
    RS256 = "RS256", "RS256"


def validate_jwks(value) -> None:
    """A JWK Set (RFC 7517 §5) of public keys only: a private key pasted here would be a leak."""
    if value in (None, "", {}):
        return
    from jwcrypto.common import JWException
    from jwcrypto.jwk import JWKSet

    if not isinstance(value, dict) or not isinstance(value.get("keys"), list):
        raise ValidationError(_('Enter a JWK Set: {"keys": [...]} (RFC 7517 §5).'))
    try:
        keyset = JWKSet.from_json(json.dumps(value))
    except (JWException, ValueError, TypeError) as error:
        raise ValidationError(_("Not a valid JWK Set: %(error)s"), params={"error": error}) from error
    if any(key.has_private for key in keyset["keys"]):
        raise ValidationError(_("The JWK Set contains a private key; register the public keys only."))


class ClientSecurityProfile(models.Model):
    """What one client must use beyond DOT's settings: its authentication method and keys, and
    whether its authorization requests must be pushed (RFC 9126 §6)."""

    application = models.OneToOneField(
        oauth2_settings.APPLICATION_MODEL, on_delete=models.CASCADE, related_name="mfa_security"
    )
    token_endpoint_auth_method = models.CharField(
        _("client authentication"),
        max_length=32,
        choices=TokenEndpointAuthMethod.choices,
        default=TokenEndpointAuthMethod.CLIENT_SECRET,
        help_text=_("private_key_jwt: the client's secret is no longer accepted, only assertions signed by its keys."),
    )
    jwks = models.JSONField(
        _("public keys (JWK Set)"),
        default=dict,
        blank=True,
        validators=[validate_jwks],
        help_text=_('The client\'s public signing keys, e.g. {"keys": [{"kty": "EC", ...}]}. Or give a JWKS URI.'),
    )
    jwks_uri = models.URLField(
        _("JWKS URI"),
        blank=True,
        help_text=_("Where the client publishes its public keys (fetched with a timeout and cached)."),
    )
    require_pushed_authorization_requests = models.BooleanField(
        _("pushed authorization requests required"),
        default=False,
        help_text=_("Authorization requests are only accepted through the PAR endpoint (RFC 9126 §6)."),
    )

    authorization_details_types = models.JSONField(
        _("authorization details types"),
        default=list,
        blank=True,
        help_text=_('RFC 9396 types the client may request, e.g. ["account_information", "payment_initiation"].'),
    )
    fapi2_security_profile = models.BooleanField(
        _("FAPI 2.0 Security Profile"),
        default=False,
        help_text=_(
            "One switch for the bank profile: PAR, private_key_jwt, PKCE S256, DPoP-bound tokens, "
            "https redirect URIs, codes of at most 60 s (docs/fapi.md)."
        ),
    )

    # OIDC Dynamic Client Registration §2: the JWS alg of the client's id_tokens (mfa_oauth.oauth.signing).
    id_token_signed_response_alg = models.CharField(
        _("id_token signing algorithm"),
        max_length=8,
        blank=True,
        choices=IdTokenSigningAlg.choices,
        help_text=_(
            "Blank: the application's own algorithm above (RS256 or HS256); under the FAPI 2.0 switch the "
            "first PS256, ES256 or EdDSA key of MFA_OAUTH['ID_TOKEN_SIGNING_KEYS']. Only algorithms the site "
            "has a key for are accepted."
        ),
    )

    class Meta:
        verbose_name = _("client security profile")

    def __str__(self) -> str:
        return f"Security profile of {self.application}"

    def clean(self) -> None:
        if self.token_endpoint_auth_method == TokenEndpointAuthMethod.PRIVATE_KEY_JWT and not (
            self.jwks or self.jwks_uri
        ):
            raise ValidationError(_("private_key_jwt needs the client's public keys: a JWK Set or a JWKS URI."))
        if self.jwks and self.jwks_uri:
            # OIDC Dynamic Client Registration §2: jwks and jwks_uri MUST NOT both be used.
            raise ValidationError(_("Give either the JWK Set or the JWKS URI, not both."))
        if self.id_token_signed_response_alg:
            from ..oauth.signing import available_algorithms

            if self.id_token_signed_response_alg not in available_algorithms():
                raise ValidationError(
                    {
                        "id_token_signed_response_alg": _(
                            "The site has no signing key for %(alg)s; add one to MFA_OAUTH['ID_TOKEN_SIGNING_KEYS'] "
                            "or choose one of: %(available)s."
                        )
                        % {
                            "alg": self.id_token_signed_response_alg,
                            "available": ", ".join(available_algorithms()) or "-",
                        }
                    }
                )
        if self.fapi2_security_profile:
            from .profile import profile_errors

            errors = profile_errors(self)
            if errors:
                raise ValidationError(errors)


class PushedAuthorization(models.Model):
    """One pushed authorization request (RFC 9126 §2): the parameters, bound to the client that
    pushed them, valid until ``expires`` and redeemed at most once (``used_at``)."""

    # The random part of the request_uri (urn:ietf:params:oauth:request_uri:<reference>).
    reference = models.CharField(max_length=64, unique=True)
    application = models.ForeignKey(oauth2_settings.APPLICATION_MODEL, on_delete=models.CASCADE, related_name="+")
    parameters = models.JSONField()
    created = models.DateTimeField(auto_now_add=True)
    expires = models.DateTimeField(db_index=True)
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("pushed authorization request")

    def __str__(self) -> str:
        return f"PAR {self.reference[:8]}… of {self.application_id}"
