"""OpenID Foundation *Config OP* test plan (OpenID Connect Discovery 1.0), black-box over HTTP."""

from __future__ import annotations

import pytest
import requests

from .conftest import TIMEOUT

pytestmark = pytest.mark.django_db(transaction=True)

REQUIRED = (
    "issuer",
    "authorization_endpoint",
    "token_endpoint",
    "jwks_uri",
    "response_types_supported",
    "subject_types_supported",
    "id_token_signing_alg_values_supported",
)


def test_oidcc_discovery_endpoint_verification(op):
    """oidcc-discovery-endpoint-verification: OIDC Discovery §3 REQUIRED metadata, §4.2 JSON over HTTP 200,
    §4.3 "The issuer value returned MUST be identical to the Issuer URL that was used as the prefix to
    /.well-known/openid-configuration"."""
    response = requests.get(f"{op.base}/o/.well-known/openid-configuration", timeout=TIMEOUT)
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("application/json")
    config = response.json()
    for name in REQUIRED:
        assert config.get(name), name
    assert f"{config['issuer']}/.well-known/openid-configuration" == response.url
    assert config["userinfo_endpoint"].startswith(op.base)
    assert "code" in config["response_types_supported"]
    assert "RS256" in config["id_token_signing_alg_values_supported"]  # OIDC Discovery §3: MUST include RS256
    assert "openid" in config["scopes_supported"]  # §3: "The server MUST support the openid scope value"
    assert set(config["subject_types_supported"]) <= {"public", "pairwise"}


def test_oidcc_discovery_claims_supported(op):
    """oidcc-discovery-endpoint-verification (claims_supported): OIDC Discovery §3 claims_supported lists
    claims the OP can supply; sub is always one (OIDC Core §2)."""
    assert "sub" in op.config["claims_supported"]
    assert {"acr", "amr", "auth_time"} <= set(op.config["claims_supported"])


def test_oidcc_discovery_truthful_optional_fields(op):
    """OIDC Discovery §3: request_uri_parameter_supported "If omitted, the default value is true", so a
    provider that refuses request_uri (OIDC Core §6.2) MUST say false; response_modes_supported and
    grant_types_supported list what the endpoints accept; token_endpoint_auth_methods_supported includes
    "none" for public clients."""
    config = op.config
    assert config["request_parameter_supported"] is False
    assert config["request_uri_parameter_supported"] is False
    assert isinstance(config["claims_parameter_supported"], bool)
    assert set(config["response_modes_supported"]) == {"query", "fragment", "form_post"}
    assert set(config["grant_types_supported"]) == {
        "authorization_code",
        "refresh_token",
        "client_credentials",
        "urn:ietf:params:oauth:grant-type:device_code",
    }
    assert set(config["token_endpoint_auth_methods_supported"]) == {
        "client_secret_basic",
        "client_secret_post",
        "none",
        "private_key_jwt",  # RFC 7523 §2.2 (mfa_oauth.client_auth)
    }
    assert config["code_challenge_methods_supported"] == ["S256"]
    assert set(config["prompt_values_supported"]) == {"none", "login"}


def test_oidcc_discovery_jwks_verification(op):
    """oidcc-discovery-endpoint-verification (jwks_uri): OIDC Discovery §3 jwks_uri is a JWK Set
    (RFC 7517 §5) holding the signing key; RFC 7517 §4.2 "use" sig, no private parts (§9.1)."""
    response = requests.get(op.config["jwks_uri"], timeout=TIMEOUT)
    assert response.status_code == 200
    keys = response.json()["keys"]
    # The RS256 key every client can rely on (OIDC Discovery §3), and the site's PS256/ES256/EdDSA keys
    # (mfa_oauth.oauth.signing): asymmetric, each with its kid and alg.
    assert any(key["kty"] == "RSA" and key.get("alg") == "RS256" for key in keys)
    assert all(key["kty"] in ("RSA", "EC", "OKP") and key.get("kid") and key.get("alg") for key in keys)
    assert all(key.get("use", "sig") == "sig" for key in keys)
    assert not any(private in key for key in keys for private in ("d", "p", "q", "dp", "dq", "qi"))


def test_oidcc_discovery_cors(op):
    """OIDC Discovery §4 / user_agent-based clients: the configuration is readable cross-origin."""
    response = requests.get(
        f"{op.base}/o/.well-known/openid-configuration", headers={"Origin": "https://spa.example"}, timeout=TIMEOUT
    )
    assert response.headers.get("Access-Control-Allow-Origin") == "*"
