"""The oauthlib server DOT runs (``OIDC_SERVER_CLASS``, DOT's documented extension point).

Only flows that pass the second-factor gate and carry the authentication context through an
authorization code remain: the implicit and hybrid response types (tokens straight from the
authorization endpoint) and the password grant (no browser, so no gate) are not offered at all,
so clients get ``unsupported_response_type`` / ``unsupported_grant_type`` (RFC 9700 §2.1.2, §2.4).
"""

from __future__ import annotations

from oauthlib.openid import Server

REMOVED_RESPONSE_TYPES = ("token", "id_token", "id_token token", "code token", "code id_token", "code id_token token")
REMOVED_GRANT_TYPES = ("password",)


class MFAServer(Server):
    def __init__(self, request_validator, *args, **kwargs):
        super().__init__(request_validator, *args, **kwargs)
        for response_type in REMOVED_RESPONSE_TYPES:
            self._response_types.pop(response_type, None)
        for grant_type in REMOVED_GRANT_TYPES:
            self._grant_types.pop(grant_type, None)
