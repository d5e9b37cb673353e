"""Who learns what from /o/introspect/ (RFC 7662 §2.1, §2.2, §4): the client the token was issued
to, or a client registered as a resource server for it; anyone else authenticated gets
``{"active": false}``, a caller that does not authenticate is refused."""

from __future__ import annotations

import base64
import json
import secrets
from datetime import timedelta
from html.parser import HTMLParser
from io import StringIO

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from oauth2_provider.models import get_access_token_model, get_application_model

from mfa_oauth.context import ACR_MFA
from tests.conftest import CLIENT_SECRET

from .test_resource import T0, make_token

pytestmark = pytest.mark.django_db

API = "https://api.example/"


def basic(client_id: str, secret: str = CLIENT_SECRET) -> dict:
    return {"Authorization": "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()}


def introspect(client, token: str, headers: dict | None = None, **data) -> tuple[int, dict]:
    response = client.post("/o/introspect/", {"token": token, **data}, headers=headers or {})
    return response.status_code, (response.json() if response.status_code == 200 else {})


def resource_server(application, *, clients=(), audiences=()):
    from mfa_oauth.models import ResourceServer

    server = ResourceServer.objects.create(application=application, audiences=list(audiences))
    server.clients.set(clients)
    return server


def bearer_for(application, scope: str = "introspection") -> dict:
    value = secrets.token_urlsafe(30)
    get_access_token_model().objects.create(
        user=None, application=application, token=value, scope=scope, expires=timezone.now() + timedelta(minutes=5)
    )
    return {"Authorization": f"Bearer {value}"}


@pytest.fixture
def rp_token(user, application):
    return make_token(user, application, ACR_MFA, ["pwd", "otp", "mfa"], T0)


@pytest.fixture
def other(make_application):
    return make_application(client_id="other", redirect_uris="https://other.example/cb")


@pytest.fixture
def api(make_application):
    return make_application(client_id="api", redirect_uris="https://api.example/cb")


def test_the_client_the_token_was_issued_to_learns_everything(client, rp_token):
    status, answer = introspect(client, rp_token, basic("rp"))
    assert status == 200 and answer["active"] is True
    assert (answer["client_id"], answer["username"], answer["acr"]) == ("rp", "alice", ACR_MFA)


def test_another_confidential_client_learns_nothing(client, rp_token, other):
    status, answer = introspect(client, rp_token, basic("other"))
    assert (status, answer) == (200, {"active": False})
    status, answer = introspect(client, rp_token, client_id="other", client_secret=CLIENT_SECRET)
    assert (status, answer) == (200, {"active": False})


def test_a_bearer_token_with_the_introspection_scope_is_no_pass_either(client, rp_token, other, api, application):
    status, answer = introspect(client, rp_token, bearer_for(other))
    assert (status, answer) == (200, {"active": False})
    resource_server(api, clients=[application])
    status, answer = introspect(client, rp_token, bearer_for(api))
    assert status == 200 and answer["active"] is True and answer["client_id"] == "rp"


def test_a_resource_server_registered_for_the_client_learns_everything(client, rp_token, api, other, application):
    resource_server(api, clients=[other])
    assert introspect(client, rp_token, basic("api")) == (200, {"active": False})
    resource_server(other, clients=[application])
    status, answer = introspect(client, rp_token, basic("other"))
    assert status == 200 and answer["active"] is True and answer["amr"] == ["pwd", "otp", "mfa"]


def test_a_resource_server_registered_for_an_audience(client, user, application, api):
    resource_server(api, audiences=[API])
    value = make_token(user, application, ACR_MFA, ["pwd", "otp"], T0)
    assert introspect(client, value, basic("api")) == (200, {"active": False})  # no audience: not for api
    get_access_token_model().objects.filter(user=user).update(resource=[API, "https://else.example/"])
    status, answer = introspect(client, value, basic("api"))
    assert status == 200 and answer["active"] is True and answer["aud"] == [API, "https://else.example/"]
    get_access_token_model().objects.filter(user=user).update(resource=["https://api.example/other"])
    assert introspect(client, value, basic("api")) == (200, {"active": False})  # exact URIs, no prefixes


def test_a_public_client_is_not_an_authenticated_caller(client, user, make_application):
    public = make_application(client_id="tv-public")
    Application = get_application_model()
    Application.objects.filter(pk=public.pk).update(
        client_type=Application.CLIENT_PUBLIC, authorization_grant_type=Application.GRANT_DEVICE_CODE
    )
    value = make_token(user, Application.objects.get(pk=public.pk), ACR_MFA, ["pwd", "otp"], T0)
    # DOT accepts a public device-flow client without a secret as "authenticated": not here.
    device_grant = "urn:ietf:params:oauth:grant-type:device_code"
    status, _answer = introspect(client, value, client_id="tv-public", grant_type=device_grant)
    assert status in (401, 403)


def test_the_registration_is_validated(api):
    from django.core.exceptions import ValidationError

    from mfa_oauth.models import ResourceServer

    for audiences in ("https://api.example/", [""], [3], ["not a uri"]):
        with pytest.raises(ValidationError):
            ResourceServer(application=api, audiences=audiences).full_clean()
    ResourceServer(application=api, audiences=[API]).full_clean()


@pytest.mark.parametrize("registered", [False, True])
def test_one_statement_whoever_asks(user, application, api, registered):
    from mfa_oauth.oauth.introspection import MFAIntrospectTokenView

    value = make_token(user, application, ACR_MFA, ["pwd", "otp"], T0)
    if registered:
        resource_server(api, clients=[application])
    with CaptureQueriesContext(connection) as queries:
        answer = json.loads(MFAIntrospectTokenView.get_token_response(value, caller=api).content)
    assert len(queries) == 1
    assert answer["active"] is registered


def test_no_caller_no_answer(user, application):
    from mfa_oauth.oauth.introspection import MFAIntrospectTokenView

    value = make_token(user, application, ACR_MFA, ["pwd", "otp"], T0)
    assert json.loads(MFAIntrospectTokenView.get_token_response(value).content) == {"active": False}


def test_the_demo_api_is_registered_for_the_demo_client(client, user):
    call_command("seed_demo", "--quiet", stdout=StringIO())
    call_command("seed_demo", "--quiet", stdout=StringIO())  # idempotent
    demo = get_application_model().objects.get(client_id=settings.DEMO_CLIENT_ID)
    value = make_token(user, demo, ACR_MFA, ["pwd", "otp"], T0)
    status, answer = introspect(client, value, basic(settings.DEMO_API_CLIENT_ID, settings.DEMO_API_CLIENT_SECRET))
    assert status == 200 and answer["active"] is True and answer["client_id"] == settings.DEMO_CLIENT_ID


class _FormValues(HTMLParser):
    """The values a browser would submit from a rendered admin form (inputs, selects, textareas)."""

    def __init__(self):
        super().__init__()
        self.values: dict[str, list[str]] = {}
        self._select = self._textarea = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        name = a.get("name")
        if tag == "input" and name and a.get("type") not in ("submit", "button", "file"):
            if a.get("type") not in ("checkbox", "radio") or "checked" in a:
                self.values.setdefault(name, []).append(a.get("value") or ("on" if a.get("type") == "checkbox" else ""))
        elif tag == "select" and name:
            self._select = name
            self.values.setdefault(name, [])
        elif tag == "option" and self._select and "selected" in a:
            self.values[self._select].append(a.get("value", ""))
        elif tag == "textarea" and name:
            self._textarea = name
            self.values[name] = [""]

    def handle_endtag(self, tag):
        if tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None

    def handle_data(self, data):
        if self._textarea:
            self.values[self._textarea][0] += data.lstrip("\n") if not self.values[self._textarea][0] else data


def test_a_site_registers_a_resource_server_on_the_clients_admin_page(client, api, application):
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from mfa_oauth.models import ResourceServer
    from tests.account.helpers import give_mfa, make_staff

    staff = make_staff()
    give_mfa(client, staff, TOTPDevice.objects.create(user=staff, name="phone", confirmed=True))
    url = f"/admin/oauth2_provider/application/{api.pk}/change/"
    parser = _FormValues()
    parser.feed(client.get(url).content.decode())
    data = {k: v for k, v in parser.values.items() if "__prefix__" not in k}
    data.update(
        {
            "mfa_resource_server-TOTAL_FORMS": ["1"],
            "mfa_resource_server-0-clients": [str(application.pk)],
            "mfa_resource_server-0-audiences": ['["https://api.example/"]'],
            "_save": ["Save"],
        }
    )
    response = client.post(url, data)
    assert response.status_code == 302, response.content.decode()[:3000]
    server = ResourceServer.objects.get(application=api)
    assert list(server.clients.all()) == [application] and server.audiences == [API]
