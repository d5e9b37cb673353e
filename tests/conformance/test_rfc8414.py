"""RFC 8414 (OAuth 2.0 Authorization Server Metadata): the MUSTs, black-box over HTTP."""

from __future__ import annotations

import pytest
import requests

from .conftest import TIMEOUT

pytestmark = pytest.mark.django_db(transaction=True)


def _get(url: str) -> requests.Response:
    return requests.get(url, timeout=TIMEOUT)


def test_rfc8414_3_path_inserted_well_known_uri(op):
    """RFC 8414 §3: "the well-known URI string ... is inserted in the authorization server's issuer
    identifier between the host component and the path component"; issuer https://host/o →
    https://host/.well-known/oauth-authorization-server/o."""
    path = op.issuer[len(op.base) :]
    assert path == "/o"
    response = _get(f"{op.base}/.well-known/oauth-authorization-server{path}")
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("application/json")


def test_rfc8414_3_3_issuer_identical_to_the_url_it_was_fetched_from(op):
    """RFC 8414 §3.3: "The "issuer" value returned MUST be identical to the authorization server's issuer
    identifier value into which the well-known URI string was inserted"."""
    for url in (
        f"{op.base}/.well-known/oauth-authorization-server/o",
        f"{op.base}/o/.well-known/oauth-authorization-server",
        f"{op.base}/.well-known/openid-configuration/o",
    ):
        assert _get(url).json()["issuer"] == op.issuer, url


def test_rfc8414_3_other_issuer_paths_are_not_found(op):
    """RFC 8414 §3.3: a document whose issuer does not match the URL MUST NOT be used, so none is served
    for an issuer this server is not."""
    for url in (
        f"{op.base}/.well-known/oauth-authorization-server",
        f"{op.base}/.well-known/oauth-authorization-server/tenant1",
        f"{op.base}/.well-known/openid-configuration",
    ):
        assert _get(url).status_code == 404, url


def test_rfc8414_2_required_and_truthful_fields(op):
    """RFC 8414 §2: issuer, authorization_endpoint, token_endpoint, response_types_supported REQUIRED;
    grant_types_supported "If omitted, the default value is ["authorization_code", "implicit"]" (so it is
    given: implicit is refused); response_modes_supported and the endpoint auth methods as accepted."""
    data = _get(f"{op.base}/.well-known/oauth-authorization-server/o").json()
    for name in ("issuer", "authorization_endpoint", "token_endpoint", "response_types_supported"):
        assert data.get(name), name
    assert data["response_types_supported"] == ["code"]
    assert "implicit" not in data["grant_types_supported"] and "password" not in data["grant_types_supported"]
    assert set(data["response_modes_supported"]) == {"query", "fragment", "form_post"}
    assert "none" in data["token_endpoint_auth_methods_supported"]
    assert "none" in data["revocation_endpoint_auth_methods_supported"]
    assert "none" not in data["introspection_endpoint_auth_methods_supported"]
    assert data["code_challenge_methods_supported"] == ["S256"]
    assert data["authorization_response_iss_parameter_supported"] is True
    assert data["device_authorization_endpoint"].endswith("/o/device-authorization/")


def test_rfc8414_2_both_documents_agree(op):
    """RFC 8414 §5 / OIDC Discovery §3: the values both documents carry are the same."""
    oauth = _get(f"{op.base}/.well-known/oauth-authorization-server/o").json()
    shared = set(oauth) & set(op.config)
    assert {"issuer", "token_endpoint", "grant_types_supported", "response_modes_supported"} <= shared
    for name in shared - {"scopes_supported"}:
        value, other = oauth[name], op.config[name]
        if isinstance(value, list):
            value, other = sorted(value), sorted(other)
        assert value == other, name
