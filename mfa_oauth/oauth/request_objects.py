"""Request objects (OIDC Core §6, RFC 9101) at the authorization endpoint: refused, and discovery says so.

OIDC Core §6.1/§6.2: "request_not_supported: The OP does not support use of the request parameter"
and "request_uri_not_supported: The OP does not support use of the request_uri parameter". Serving
the request without them would ignore parameters the client meant the user to approve; the refusal
goes to the client's redirect URI with ``state`` and ``iss`` like any authorization error.
OIDC Discovery §3: ``request_parameter_supported`` and ``request_uri_parameter_supported`` are
published from the same two constants (``request_uri_parameter_supported`` defaults to true).

Signed request objects are accepted at the PAR endpoint instead (RFC 9126 §3,
:mod:`mfa_oauth.par.request_object`; discovery's ``request_object_signing_alg_values_supported``), and a
``request_uri`` this server's PAR endpoint issued is resolved before :func:`refusal` is asked
(:mod:`mfa_oauth.par`). Only the two front-channel forms stay refused here: a request object carried
by the browser, and one fetched by reference from elsewhere.
"""

from __future__ import annotations

from collections.abc import Mapping

REQUEST_PARAMETER_SUPPORTED = False
REQUEST_URI_PARAMETER_SUPPORTED = False


def refusal(params: Mapping[str, str]) -> tuple[str, str] | None:
    """``(error, description)`` for an authorization request carrying a request object, else None."""
    if "request" in params and not REQUEST_PARAMETER_SUPPORTED:
        return "request_not_supported", "Request objects (the request parameter) are not supported"
    if "request_uri" in params and not REQUEST_URI_PARAMETER_SUPPORTED:
        return "request_uri_not_supported", "The request_uri parameter is not supported"
    return None
