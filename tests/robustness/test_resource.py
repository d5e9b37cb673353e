"""The step-up helpers with junk ``Authorization`` headers: the sample API (/api/balance,
/api/transfer, RFC 9470 decorator) and the DRF permission. Never a 5xx, an RFC 6750 / RFC 9470
answer with ``WWW-Authenticate`` on every 401, and the view reached only with a genuine token."""

from __future__ import annotations

import secrets
import time
from datetime import datetime, timedelta
from datetime import timezone as dt_timezone

import pytest
from django.utils import timezone
from hypothesis import example, given
from hypothesis import strategies as st
from oauth2_provider.models import get_access_token_model

from mfa_oauth.context import ACR_MFA, ACR_PASSWORD, ACR_PHISHING_RESISTANT
from mfa_oauth.models import AuthenticationRecord, TokenLink
from mfa_oauth.resource import Requirement

from .helpers import assert_not_5xx, isolated
from .strategies import junk_text

pytestmark = pytest.mark.django_db


def make_token(user, application, acr: str, amr: list[str], scope: str = "balance transfer", **expiry) -> str:
    value = secrets.token_urlsafe(30)
    token = get_access_token_model().objects.create(
        user=user,
        application=application,
        token=value,
        scope=scope,
        expires=timezone.now() + timedelta(**(expiry or {"seconds": 600})),
    )
    record = AuthenticationRecord.objects.create(
        user=user, acr=acr, amr=amr, auth_time=datetime.fromtimestamp(time.time(), tz=dt_timezone.utc)
    )
    TokenLink.objects.create(access_token=token, record=record)
    return value


@pytest.fixture
def tokens(user, application) -> dict[str, str]:
    return {
        "mfa": make_token(user, application, ACR_MFA, ["pwd", "otp", "mfa"]),
        "pwd": make_token(user, application, ACR_PASSWORD, ["pwd"]),
        "no scope": make_token(user, application, ACR_MFA, ["pwd", "otp", "mfa"], scope="openid"),
        "expired": make_token(user, application, ACR_MFA, ["pwd", "otp", "mfa"], seconds=-60),
    }


def headers(tokens: dict[str, str]) -> st.SearchStrategy:
    token = st.one_of(st.sampled_from(sorted(tokens)).map(tokens.get), junk_text())
    return st.one_of(
        st.none(),
        st.tuples(st.sampled_from(["Bearer", "bearer", "BEARER", "Basic", "Token", "Bearer  ", ""]), token).map(
            " ".join
        ),
        st.tuples(token, token).map(lambda pair: f"Bearer {pair[0]} {pair[1]}"),
        token.map(lambda t: f"Bearer {t[:-1]}" if t else "Bearer"),
        junk_text(),
    ).map(lambda value: value.encode("utf-8").decode("latin-1") if value is not None else None)


def _bearer(value: str | None) -> str | None:
    parts = (value or "").split()
    return parts[1] if len(parts) == 2 and parts[0].lower() == "bearer" else None


# The mfa token may pass (balance: any second factor; transfer: a second factor younger than 5 minutes).
@given(data=st.data(), endpoint=st.sampled_from([("get", "/api/balance"), ("post", "/api/transfer")]))
@example(data=None, endpoint=("get", "/api/balance")).via("the baseline: a genuine token reaches the view")
def test_sample_api_with_junk_authorization(client, tokens, data, endpoint):
    value = data.draw(headers(tokens), "Authorization") if data is not None else f"Bearer {tokens['mfa']}"
    method, path = endpoint
    with isolated(client) as client:
        extra = {"HTTP_AUTHORIZATION": value} if value is not None else {}
        response = getattr(client, method)(path, **extra)
        assert_not_5xx(response)
        assert response.status_code in (200, 400, 401, 403), response.status_code
        if response.status_code == 200:
            assert _bearer(value) == tokens["mfa"], value
            return
        body = response.json()
        assert body["error"] in (
            "invalid_request",
            "invalid_token",
            "insufficient_scope",
            "insufficient_user_authentication",
        )
        if response.status_code == 401:
            assert response["WWW-Authenticate"].startswith("Bearer")
        if _bearer(value) == tokens["pwd"]:
            assert body["error"] == "insufficient_user_authentication"


@given(data=st.data())
def test_drf_permission_with_junk_authorization(tokens, data):
    pytest.importorskip("rest_framework")
    from rest_framework.response import Response
    from rest_framework.test import APIRequestFactory
    from rest_framework.views import APIView

    from mfa_oauth.resource.drf import step_up_permission

    class Transfer(APIView):
        authentication_classes = []
        permission_classes = [
            step_up_permission(
                any_of=[Requirement(acr=ACR_PHISHING_RESISTANT), Requirement(acr=ACR_MFA, max_age=300)],
                scopes=["transfer"],
            )
        ]

        def post(self, request):
            return Response({"acr": request.token_info.acr})

    value = data.draw(headers(tokens), "Authorization")
    extra = {"HTTP_AUTHORIZATION": value} if value is not None else {}
    response = Transfer.as_view()(APIRequestFactory().post("/transfer", **extra))
    response.render()
    assert_not_5xx(response)
    if response.status_code == 200:
        assert _bearer(value) == tokens["mfa"]
        return
    assert response.status_code in (400, 401, 403)
    if response.status_code == 401:
        assert response["WWW-Authenticate"].startswith("Bearer")
