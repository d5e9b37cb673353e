"""The two phases of tests/package/test_upgrade_from_dot.py, each run in its own interpreter.

``phase1`` (plain DOT settings): DOT's migrations only; a user signs in and approves a public PKCE
client at DOT's own authorization view twice: one code is redeemed at DOT's token view (an access
and a refresh token), the other is left unredeemed. ``phase2`` (the test settings, mfa_oauth
installed and migrated): that code is redeemed and that refresh token refreshed, twice, through
mfa_oauth's endpoints; a code and a refresh token created after the install without an
authentication record are refused. Each phase prints one JSON line.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import sys
from urllib.parse import parse_qs, urlencode, urlparse

import django

REDIRECT_URI = "https://client.example/callback"
CLIENT_ID = "legacy-client"


def _pkce() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


def _code(client, challenge: str) -> str:
    params = {
        "response_type": "code",
        "client_id": CLIENT_ID,
        "redirect_uri": REDIRECT_URI,
        "scope": "openid read",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
        "state": "s",
        "nonce": "n",
    }
    form = client.get("/o/authorize/?" + urlencode(params))
    assert form.status_code == 200, form.status_code
    response = client.post("/o/authorize/?" + urlencode(params), {**params, "allow": "Authorize"})
    assert response.status_code == 302, response.status_code
    return parse_qs(urlparse(response["Location"]).query)["code"][0]


def _token(client, **data) -> tuple[int, dict]:
    response = client.post("/o/token/", {"client_id": CLIENT_ID, **data})
    return response.status_code, response.json()


def _claims(id_token: str) -> list[str]:
    import jwt

    return sorted(jwt.decode(id_token, options={"verify_signature": False}))


def phase1() -> dict:
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.test import Client
    from oauth2_provider.models import get_application_model

    call_command("migrate", verbosity=0)
    user = get_user_model().objects.create_user("legacy", password="x-legacy-password-1")
    get_application_model().objects.create(
        client_id=CLIENT_ID,
        client_type="public",
        authorization_grant_type="authorization-code",
        redirect_uris=REDIRECT_URI,
        algorithm="RS256",
        skip_authorization=False,
    )
    client = Client()
    client.force_login(user)
    verifier1, challenge1 = _pkce()
    status, tokens = _token(
        client,
        grant_type="authorization_code",
        code=_code(client, challenge1),
        redirect_uri=REDIRECT_URI,
        code_verifier=verifier1,
    )
    assert status == 200, tokens
    verifier2, challenge2 = _pkce()
    return {
        "refresh_token": tokens["refresh_token"],
        "access_token": tokens["access_token"],
        "code": _code(client, challenge2),
        "verifier": verifier2,
    }


def phase2(legacy: dict) -> dict:
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.test import Client
    from django.utils import timezone
    from oauth2_provider.models import get_application_model, get_grant_model, get_refresh_token_model

    from mfa_oauth.models import UpgradeMark

    call_command("migrate", verbosity=0)
    mark = UpgradeMark.current()
    client = Client()
    out: dict = {"mark": [mark.grant_max_pk, mark.refresh_token_max_pk]}
    status, body = _token(
        client, grant_type="authorization_code", code=legacy["code"], redirect_uri=REDIRECT_URI,
        code_verifier=legacy["verifier"],
    )  # fmt: skip
    out["code"] = status
    out["code_claims"] = body if status != 200 else _claims(body["id_token"])
    # The pre-install access token still works at userinfo (before the refresh revokes it), without acr/amr.
    userinfo = client.get("/o/userinfo/", HTTP_AUTHORIZATION=f"Bearer {legacy['access_token']}")
    out["userinfo"] = [userinfo.status_code, sorted(userinfo.json()) if userinfo.status_code == 200 else None]
    status, body = _token(client, grant_type="refresh_token", refresh_token=legacy["refresh_token"])
    out["refresh"] = status
    if status == 200:
        status, body2 = _token(client, grant_type="refresh_token", refresh_token=body["refresh_token"])
        out["refresh_again"] = status
        out["refresh_claims"] = _claims(body2["id_token"])
    # After the install: rows without an authentication record are refused (fail closed).
    application = get_application_model().objects.get(client_id=CLIENT_ID)
    user = get_user_model().objects.get(username="legacy")
    verifier, challenge = _pkce()
    get_grant_model().objects.create(
        application=application, user=user, code="new-code-without-record", redirect_uri=REDIRECT_URI,
        scope="openid read", expires=timezone.now() + timezone.timedelta(minutes=1), code_challenge=challenge,
        code_challenge_method="S256", nonce="n",
    )  # fmt: skip
    status, body = _token(
        client, grant_type="authorization_code", code="new-code-without-record", redirect_uri=REDIRECT_URI,
        code_verifier=verifier,
    )  # fmt: skip
    out["new_code"] = [status, body.get("error")]
    get_refresh_token_model().objects.create(user=user, application=application, token="new-rt-without-record",
                                             access_token=None)  # fmt: skip
    status, body = _token(client, grant_type="refresh_token", refresh_token="new-rt-without-record")
    out["new_refresh"] = [status, body.get("error")]
    return out


if __name__ == "__main__":
    django.setup()
    if sys.argv[1] == "phase1":
        print(json.dumps(phase1()))
    else:
        print(json.dumps(phase2(json.loads(sys.argv[2]))))
