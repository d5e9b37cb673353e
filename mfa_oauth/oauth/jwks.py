"""The JWK Set at ``/o/.well-known/jwks.json`` (OIDC Discovery §3 ``jwks_uri``, RFC 7517 §5).

DOT's ``JwksInfoView`` publishes its RSA keys (``OIDC_RSA_PRIVATE_KEY`` and the inactive ones) as RS256.
This view publishes every site key of :mod:`mfa_oauth.oauth.signing` the same way (``kid``, ``alg``,
``use: sig``): DOT's RSA keys and the PS256/ES256/EdDSA keys of ``MFA_OAUTH["ID_TOKEN_SIGNING_KEYS"]``
(FAPI 2.0 Security Profile §5.4.1), active and retired, so a relying party can verify each id_token by its kid.
"""

from __future__ import annotations

import json

from django.http import HttpRequest, HttpResponse
from oauth2_provider.views import JwksInfoView

from . import signing


class MFAJwksInfoView(JwksInfoView):
    http_method_names = ["get", "head", "options"]

    def get(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        # DOT's response (its CORS and Cache-Control headers), with the full key set.
        response = super().get(request, *args, **kwargs)
        if response.status_code == 200:
            response.content = json.dumps({"keys": signing.public_jwks()}).encode()
        return response
