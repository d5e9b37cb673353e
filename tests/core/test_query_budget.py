"""SQL statement budgets of the flow (exact counts; timings live in bench/)."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_otp.plugins.otp_totp.models import TOTPDevice

from mfa_oauth.backup_codes.flows import generate
from tests.conftest import totp_for
from tests.oauth import AuthorizationRequest, callback_params, consent, login, redeem

pytestmark = pytest.mark.django_db

CHALLENGE_BUDGET = 8
# The login's gate and the challenge page it answers with read the client once (mfa_oauth.clients).
FLOW_BUDGET = 40
# The relying party's back channel: a token request without the browser's cookies. The grant is read
# once (DOT reads it again for RFC 8707 resources only when it names some), the client, the
# authentication record; the id_token, access and refresh tokens, their one link row and the audit row
# written; the grant deleted.
TOKEN_BUDGET = 9


def challenge(client, device, next_url):
    return client.post(
        "/mfa/verify/?" + urlencode({"next": next_url}),
        {"device": device.persistent_id, "token": totp_for(device).now(), "next": next_url},
    )


def statements(queries) -> int:
    # SAVEPOINT/RELEASE exist only because each test runs inside a transaction: served by gunicorn,
    # the outermost atomic() is a BEGIN/COMMIT, which Django does not log (nor bench/ count).
    return sum(1 for q in queries if "SAVEPOINT" not in q["sql"])


def count_challenge(client, device, next_url) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = challenge(client, device, next_url)
    assert response.status_code == 303
    return statements(queries)


@time_machine.travel("2026-04-01 09:00:00Z", tick=False)
def test_challenge_step_budget_does_not_grow_with_devices_or_backup_codes(client, user, application):
    device = TOTPDevice.objects.create(user=user, name="phone", confirmed=True)
    generate(user)  # the user's first-ever attempt also creates their lock-state row; not measured
    login(client)
    challenge(client, device, "/")
    fresh = client.__class__()
    login(fresh)
    with time_machine.travel("2026-04-01 09:00:30Z", tick=False):
        few = count_challenge(fresh, device, "/")

    for i in range(20):
        TOTPDevice.objects.create(user=user, name=f"spare {i}", confirmed=True)
    for _ in range(3):
        generate(user)
    other = client.__class__()
    login(other)
    with time_machine.travel("2026-04-01 09:01:00Z", tick=False):
        many = count_challenge(other, device, "/")
    assert few == many
    assert many <= CHALLENGE_BUDGET
    print(f"challenge step: {many} SQL statements")


@time_machine.travel("2026-04-01 09:00:00Z", tick=False)
def test_whole_flow_budget(client, user, application, django_assert_max_num_queries):
    device = TOTPDevice.objects.create(user=user, name="phone", confirmed=True)
    request = AuthorizationRequest()
    with CaptureQueriesContext(connection) as queries:
        client.get(request.url())
        response = login(client, next_url=request.url())
        # The login answers with the challenge page itself (mfa_oauth.oauth.after_login): no GET for it.
        assert response.status_code == 200 and b'id="mfa-verify-form"' in response.content
        challenge(client, device, request.url())
        params = callback_params(consent(client, request))
        assert redeem(client, params["code"], request).status_code == 200
    assert statements(queries) <= FLOW_BUDGET
    print(f"whole flow: {statements(queries)} SQL statements")


@time_machine.travel("2026-04-01 09:00:00Z", tick=False)
def test_token_request_budget(client, user, application):
    device = TOTPDevice.objects.create(user=user, name="phone", confirmed=True)
    request = AuthorizationRequest()
    login(client, next_url=request.url())
    challenge(client, device, request.url())
    params = callback_params(consent(client, request))
    relying_party = client.__class__()
    with CaptureQueriesContext(connection) as queries:
        response = redeem(relying_party, params["code"], request)
    assert response.status_code == 200 and "id_token" in response.json()
    assert statements(queries) <= TOKEN_BUDGET
    print(f"token request: {statements(queries)} SQL statements")
