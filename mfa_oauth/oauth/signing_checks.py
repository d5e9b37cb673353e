"""System checks for the id_token signing keys (mfa_oauth.oauth.signing; ids mfa_oauth.E140–E143, W140).

A key that cannot sign is never used (it is skipped), so a typo would only show when a client's token
request is refused: these checks say it at startup instead.

- E140: an entry of ``ID_TOKEN_SIGNING_KEYS`` is malformed, of an unknown alg, or a key that does not fit
  its alg (RSA under 2048 bits, an EC key not on P-256, an Ed448 key for EdDSA, an encrypted PEM).
- E141: an entry is symmetric: alg HS256/HS384/HS512/none, an ``oct`` JWK or a plain secret string.
  An HMAC key would be the client's shared secret, and the JWKS cannot publish it.
- E142 (database): a client's ``id_token_signed_response_alg`` has no active site key (its token
  requests with ``openid`` get ``unauthorized_client``).
- E143 (database): a client under the FAPI 2.0 switch has no PS256/ES256/EdDSA key to sign its id_tokens
  with (FAPI 2.0 Security Profile §5.4.1), or chose RS256.
- W140: two published keys share a ``kid`` (FAPI 2.0 Security Profile §5.4.2: "should not serve a JWK set
  with multiple keys with the same kid"); relying parties pick the verification key by kid.
"""

from __future__ import annotations

from collections import Counter

from django.core.checks import CheckMessage, Error, Tags, Warning, register

from ..conf import settings as mfa_settings
from . import signing

_HINT = (
    'MFA_OAUTH["ID_TOKEN_SIGNING_KEYS"] = [{"alg": "ES256", "kid": "es-1", "key": "<PEM>"}]; '
    "make keys with: openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 "
    "(or -algorithm ED25519, or -algorithm RSA -pkeyopt rsa_keygen_bits:3072 for PS256)"
)


@register()
def check_signing_keys(app_configs, **kwargs) -> list[CheckMessage]:
    messages: list[CheckMessage] = []
    configured = mfa_settings.ID_TOKEN_SIGNING_KEYS
    if isinstance(configured, str) or not isinstance(configured, (list, tuple)):
        return [
            Error(
                "MFA_OAUTH['ID_TOKEN_SIGNING_KEYS'] must be a list of keys.",
                hint=_HINT,
                id="mfa_oauth.E140",
            )
        ]
    for index, entry in enumerate(configured):
        try:
            signing.parse_entry(entry)
        except signing.SigningKeyError as error:
            messages.append(
                Error(
                    f"MFA_OAUTH['ID_TOKEN_SIGNING_KEYS'][{index}] {error}; it signs nothing.",
                    hint=_HINT,
                    id="mfa_oauth.E141" if error.symmetric else "mfa_oauth.E140",
                )
            )
    kids = Counter(key.kid for key in signing.site_keys())
    for kid, count in sorted(kids.items()):
        if count > 1:
            messages.append(
                Warning(
                    f"{count} id_token signing keys share the kid {kid!r}; relying parties choose the key by kid.",
                    hint="Give each key of MFA_OAUTH['ID_TOKEN_SIGNING_KEYS'] its own kid (FAPI 2.0 §5.4.2).",
                    id="mfa_oauth.W140",
                )
            )
    return messages


@register(Tags.database)
def check_client_signing_algorithms(app_configs, databases=None, **kwargs) -> list[CheckMessage]:
    # Run by ``migrate`` and ``check --database default``: it reads the clients' registrations.
    if not databases:
        return []
    from django.db import DatabaseError

    from ..fapi.models import ClientSecurityProfile

    messages: list[CheckMessage] = []
    available = signing.available_algorithms()
    try:
        profiles = list(ClientSecurityProfile.objects.select_related("application").filter(application__isnull=False))
    except DatabaseError:
        return []  # not migrated yet: nothing is registered
    for profile in profiles:
        client = profile.application.client_id
        chosen = profile.id_token_signed_response_alg
        if chosen and chosen not in available:
            messages.append(
                Error(
                    f"Client {client!r} signs its id_tokens with {chosen}, and the site has no key for it: its "
                    "token requests with openid are refused (unauthorized_client).",
                    hint=f"Add a {chosen} key to MFA_OAUTH['ID_TOKEN_SIGNING_KEYS'] or choose one of: "
                    f"{', '.join(available) or '-'}.",
                    id="mfa_oauth.E142",
                )
            )
        if profile.fapi2_security_profile and (
            (chosen and chosen not in signing.FAPI2_ALGORITHMS) or (not chosen and signing.fapi_default() is None)
        ):
            messages.append(
                Error(
                    f"Client {client!r} is under the FAPI 2.0 switch, and its id_tokens would not be signed with "
                    "PS256, ES256 or EdDSA (FAPI 2.0 Security Profile §5.4.1).",
                    hint="Add a PS256, ES256 or EdDSA key to MFA_OAUTH['ID_TOKEN_SIGNING_KEYS'] and leave the "
                    "client's id_token_signed_response_alg blank or set it to that alg.",
                    id="mfa_oauth.E143",
                )
            )
    return messages
