"""Pairwise subject identifiers (OIDC Core §8, §8.1), per client, public by default.

Black-box flows with an authlib relying party against the live server (tests/conformance/claims_helpers.py);
the sector identifier documents are served by a local HTTP server on a free loopback port, never the
internet."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlencode

import pytest
import requests
from django.core.exceptions import ValidationError
from requests_oauth2client import OAuth2Client

from mfa_oauth.models import ClientPolicy
from tests.conftest import CLIENT_SECRET, PASSWORD

from .claims_helpers import Provider, RelyingParty, hidden_fields, query_of

pytestmark = pytest.mark.django_db(transaction=True)


class SectorServer:
    """Serves ``documents[path] = (status, body, delay_seconds, headers)`` on 127.0.0.1."""

    def __init__(self):
        self.documents: dict[str, tuple[int, bytes, float, dict]] = {}
        documents = self.documents

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 (http.server's name)
                status, body, delay, headers = documents.get(self.path, (404, b"", 0.0, {}))
                time.sleep(delay)
                try:
                    self.send_response(status)
                    for name, value in {"Content-Type": "application/json", **headers}.items():
                        self.send_header(name, value)
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (the timeout test)

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def serve(self, path: str, document, *, status: int = 200, delay: float = 0.0, headers=None) -> str:
        body = document if isinstance(document, bytes) else json.dumps(document).encode()
        self.documents[path] = (status, body, delay, headers or {})
        return f"http://127.0.0.1:{self.httpd.server_address[1]}{path}"

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def sector_server(settings):
    # Plain http on loopback only for this local server (production needs https, OIDC Registration §5).
    settings.MFA_OAUTH = {
        **settings.MFA_OAUTH,
        "SECTOR_IDENTIFIER_ALLOW_LOOPBACK_HTTP": True,
        "SECTOR_IDENTIFIER_TIMEOUT": 1.0,
    }
    server = SectorServer()
    yield server
    server.close()


@pytest.fixture
def provider(live_server) -> Provider:
    return Provider(live_server.url)


@pytest.fixture
def client_for(provider, make_application, user):
    """A registered client (second factor off: these tests are about subjects) and its relying party."""

    def make(client_id: str, redirect_uri: str | None = None, **policy) -> RelyingParty:
        redirect_uri = redirect_uri or f"{provider.base}/{client_id}/cb"
        make_application(client_id=client_id, mfa_mode="off", redirect_uris=redirect_uri, **policy)
        return RelyingParty(provider, client_id, redirect_uri, scope="openid profile")

    return make


def subjects(rp: RelyingParty) -> dict[str, str]:
    """The sub of one sign-in as the id_token, userinfo, introspection and a refreshed id_token give it."""
    token = rp.tokens()
    seen = {
        "id_token": rp.id_token(token)["sub"],
        "userinfo": rp.userinfo(token)["sub"],
        "introspection": rp.introspect(token["access_token"])["sub"],
    }
    refreshed = rp.refresh(token)  # rotation revokes the first access token
    seen["refreshed id_token"] = rp.id_token(refreshed, check_nonce=False)["sub"]
    seen["refreshed userinfo"] = rp.userinfo(refreshed)["sub"]
    seen["refreshed introspection"] = rp.introspect(refreshed["access_token"])["sub"]
    return seen


def test_public_subject_by_default_is_the_same_everywhere(client_for, user):
    """OIDC Core §8 ``public``: the same sub to every client; the default without a policy."""
    rp = client_for("rp")
    assert set(subjects(rp).values()) == {str(user.pk)}
    other = client_for("other", redirect_uri="https://other.example/cb")
    assert rp.id_token(rp.tokens())["sub"] == other.id_token(other.tokens())["sub"] == str(user.pk)
    introspected = rp.introspect(rp.tokens()["access_token"])
    assert introspected["username"] == "alice"


def test_pairwise_subject_is_one_value_in_id_token_userinfo_and_introspection(client_for, user):
    """OIDC Core §8.1: the pairwise sub replaces the local id everywhere the client sees one (id_token,
    userinfo, RFC 7662 introspection, refreshed tokens); introspection does not add the username,
    which would link the client's users to other sectors."""
    rp = client_for("rp", subject_type="pairwise")
    seen = subjects(rp)
    assert len(set(seen.values())) == 1, seen
    sub = seen["id_token"]
    assert sub != str(user.pk) and len(sub) == 43 and sub.isascii()
    assert "username" not in rp.introspect(rp.tokens()["access_token"])
    assert rp.id_token(rp.tokens())["sub"] == sub  # stable across sign-ins


def test_pairwise_subject_differs_across_sectors_and_is_shared_within_one(client_for, provider):
    """OIDC Core §8.1: the sector identifier is the host of the redirect URI; clients of one sector
    get one sub per user, clients of different sectors unlinkable ones."""
    rp = client_for("rp", subject_type="pairwise")  # host: localhost (the live server)
    same_host = client_for("rp-mobile", redirect_uri=f"{provider.base}/mobile/cb", subject_type="pairwise")
    elsewhere = client_for("other", redirect_uri="https://other.example/cb", subject_type="pairwise")
    public = client_for("legacy", redirect_uri="https://legacy.example/cb")
    subs = {c.client_id: c.id_token(c.tokens())["sub"] for c in (rp, same_host, elsewhere, public)}
    assert subs["rp"] == subs["rp-mobile"]
    assert len({subs["rp"], subs["other"], subs["legacy"]}) == 3


def test_sector_identifier_uri_host_is_the_sector(client_for, sector_server):
    """OIDC Core §8.1: with a sector_identifier_uri, its host is the sector: two clients on different
    redirect hosts registered under one sector identifier share the sub."""
    uris = ["https://app-a.example/cb", "https://app-b.example/cb"]
    sector = sector_server.serve("/sector.json", uris)
    a = client_for("app-a", redirect_uri=uris[0], subject_type="pairwise", sector_identifier_uri=sector)
    b = client_for("app-b", redirect_uri=uris[1], subject_type="pairwise", sector_identifier_uri=sector)
    alone = client_for("app-c", redirect_uri="https://app-a.example/other", subject_type="pairwise")
    for policy in ClientPolicy.objects.all():
        policy.full_clean()  # the documents list every redirect URI of the clients that name them
    subs = [c.id_token(c.tokens())["sub"] for c in (a, b, alone)]
    assert subs[0] == subs[1] != subs[2]


def test_claims_sub_value_is_the_pairwise_sub(client_for, user):
    """OIDC Core §5.5.1 with §8.1: the sub a client may ask for is the one it was given."""
    rp = client_for("rp", subject_type="pairwise")
    sub = rp.id_token(rp.tokens())["sub"]
    assert "code" in query_of(rp.silent(claims={"id_token": {"sub": {"value": sub}}}))
    params = query_of(rp.silent(claims={"id_token": {"sub": {"value": str(user.pk)}}}))
    assert params["error"] == "login_required" and "code" not in params


def test_rp_initiated_logout_with_a_pairwise_id_token_hint(client_for):
    """OIDC RP-Initiated Logout §2/§3: the id_token_hint of a pairwise client identifies its user (DOT
    finds the id_token it issued by its jti, never by the sub): the logout is confirmed, ends the
    session, revokes that user's tokens for the client and redirects to the registered URI."""
    from oauth2_provider.models import get_application_model

    rp = client_for("rp", subject_type="pairwise")
    bye = f"{rp.redirect_uri}/bye"
    get_application_model().objects.filter(client_id="rp").update(post_logout_redirect_uris=bye)
    token = rp.tokens()
    query = urlencode({"id_token_hint": token["id_token"], "post_logout_redirect_uri": bye, "state": "s1"})
    page = rp.browser.get(f"{rp.provider.base}/o/logout/?{query}", timeout=10)
    assert page.status_code == 200 and "<form" in page.text, page.text[:500]
    fields = hidden_fields(page.text)
    fields["allow"] = "on"
    answer = rp.browser.post(page.url, data=fields, allow_redirects=False, timeout=10)
    assert answer.status_code == 302 and answer.headers["Location"].startswith(bye)
    assert query_of(answer.headers["Location"])["state"] == "s1"
    assert query_of(rp.silent())["error"] == "login_required"  # the session is gone
    revoked = requests.get(
        rp.provider.metadata["userinfo_endpoint"],
        headers={"Authorization": f"Bearer {token['access_token']}"},
        timeout=10,
    )
    assert revoked.status_code == 401  # the hint's user was found: their tokens are gone


def test_discovery_lists_both_subject_types(provider):
    """OIDC Discovery §3 subject_types_supported."""
    metadata = requests.get(f"{provider.base}/o/.well-known/openid-configuration", timeout=10).json()
    assert metadata["subject_types_supported"] == ["public", "pairwise"]


# --- registering a sector identifier URI (OIDC Core §8.1, OIDC Registration §5) --------------------------


def policy_for(make_application, redirect_uris: str, sector_identifier_uri: str = "", client_id: str = "rp"):
    app = make_application(client_id=client_id, redirect_uris=redirect_uris)
    return ClientPolicy(application=app, subject_type="pairwise", sector_identifier_uri=sector_identifier_uri)


def reason(policy) -> str:
    with pytest.raises(ValidationError) as caught:
        policy.full_clean()
    return " ".join(caught.value.message_dict["sector_identifier_uri"])


def test_sector_document_must_list_every_redirect_uri(make_application, sector_server):
    uris = "https://a.example/cb https://b.example/cb"
    complete = sector_server.serve("/ok.json", ["https://a.example/cb", "https://b.example/cb", "https://c.example/"])
    policy_for(make_application, uris, complete).full_clean()
    partial = sector_server.serve("/partial.json", ["https://a.example/cb"])
    assert "https://b.example/cb" in reason(policy_for(make_application, uris, partial, client_id="rp2"))


@pytest.mark.parametrize(
    ("document", "options", "expected"),
    [
        (b"not json", {}, "JSON array"),
        ({"redirect_uris": ["https://a.example/cb"]}, {}, "JSON array"),
        ([1, 2], {}, "JSON array"),
        (["https://a.example/cb"], {"status": 500}, "HTTP 500"),
        (["https://a.example/cb"], {"status": 302, "headers": {"Location": "https://a.example/s.json"}}, "HTTP 302"),
        (["https://a.example/cb"], {"delay": 2.5}, "could not be fetched"),
        (b"[" + b'"https://a.example/cb",' * 4000 + b'""]', {}, "too large"),
    ],
)
def test_a_bad_sector_document_is_refused_with_the_reason(make_application, sector_server, document, options, expected):
    """Fetched with a timeout, a size cap and no redirects; every failure is a form error, not a 500."""
    url = sector_server.serve("/s.json", document, **options)
    assert expected in reason(policy_for(make_application, "https://a.example/cb", url))


def test_an_unchanged_sector_identifier_uri_is_not_fetched_again(make_application, sector_server):
    """Saving a client whose sector identifier URI and redirect URIs did not change does not depend on
    the sector host answering; a changed redirect URI is checked against the document again."""
    url = sector_server.serve("/s.json", ["https://a.example/cb"])
    policy = policy_for(make_application, "https://a.example/cb", url)
    policy.full_clean()
    policy.save()
    sector_server.serve("/s.json", b"", status=503)  # the sector host is down now
    policy.max_mfa_age = 600
    policy.full_clean()
    policy.application.redirect_uris = "https://a.example/cb https://a.example/new"
    assert "HTTP 503" in reason(policy)


def test_sector_identifier_uri_must_be_https(make_application, sector_server, settings):
    url = sector_server.serve("/s.json", ["https://a.example/cb"])
    settings.MFA_OAUTH = {**settings.MFA_OAUTH, "SECTOR_IDENTIFIER_ALLOW_LOOPBACK_HTTP": False}
    assert "https" in reason(policy_for(make_application, "https://a.example/cb", url))


def test_pairwise_with_several_redirect_hosts_needs_a_sector_identifier_uri(make_application):
    """OIDC Core §8.1: "If there are multiple hostnames in the registered redirect_uris, the Client MUST
    register a sector_identifier_uri"."""
    policy = policy_for(make_application, "https://a.example/cb https://b.example/cb")
    assert "sector identifier URI" in reason(policy)
    policy_for(make_application, "https://a.example/cb https://a.example/other", client_id="rp2").full_clean()


def test_the_admin_checks_the_sector_identifier_uri_when_the_policy_is_saved(client, make_application, sector_server):
    """The client's admin page (policy inline) fetches and checks the document when it is saved."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from tests.account.helpers import give_mfa, make_staff
    from tests.stepup.test_introspection_callers import _FormValues

    app = make_application(client_id="rp", redirect_uris="https://a.example/cb")
    staff = make_staff()
    give_mfa(client, staff, TOTPDevice.objects.create(user=staff, name="phone", confirmed=True))
    url = f"/admin/oauth2_provider/application/{app.pk}/change/"

    def save(sector_uri: str):
        parser = _FormValues()
        parser.feed(client.get(url).content.decode())
        data = {k: v for k, v in parser.values.items() if "__prefix__" not in k}
        data.update(
            {
                "mfa_policy-0-subject_type": ["pairwise"],
                "mfa_policy-0-sector_identifier_uri": [sector_uri],
                "_save": ["Save"],
            }
        )
        return client.post(url, data)

    refused = save(sector_server.serve("/wrong.json", ["https://elsewhere.example/cb"]))
    assert refused.status_code == 200 and "does not list these redirect URIs" in refused.content.decode()
    assert not ClientPolicy.objects.filter(application=app).exists()
    accepted = save(sector_server.serve("/right.json", ["https://a.example/cb"]))
    assert accepted.status_code == 302, accepted.content.decode()[:2000]
    assert ClientPolicy.objects.get(application=app).subject_type == "pairwise"


def test_pairwise_flow_through_requests_oauth2client(client_for, provider):
    """A second independent client library, with its own OIDC Core §3.1.3.7 id_token validation
    (signature from the JWKS, iss, aud, nonce, exp, auth_time), the RFC 9207 iss of the callback, and
    the claims parameter: userinfo's sub equals the id_token's (OIDC Core §5.3.2), refreshes keep it."""
    rp = client_for("rp", subject_type="pairwise")
    client = OAuth2Client.from_discovery_endpoint(
        f"{provider.base}/o/.well-known/openid-configuration",
        issuer=provider.metadata["issuer"],
        client_id="rp",
        client_secret=CLIENT_SECRET,
        redirect_uri=rp.redirect_uri,
        testing=True,  # plain http on the live server; every token check stays on
    )
    request = client.authorization_request(
        scope="openid profile email", claims=json.dumps({"id_token": {"email": {"essential": True}}})
    )
    browser = requests.Session()
    page = browser.get(str(request), timeout=10)
    fields = hidden_fields(page.text)
    fields.update(username="alice", password=PASSWORD)
    page = browser.post(page.url, data=fields, timeout=10)
    fields = hidden_fields(page.text)
    fields["allow"] = "Authorize"
    answer = browser.post(page.url, data=fields, allow_redirects=False, timeout=10)
    response = request.validate_callback(answer.headers["Location"])  # state and iss checked
    token = client.authorization_code(response, validate=True)
    id_token = token.id_token
    sub = id_token.claims["sub"]
    assert id_token.claims["email"] == "alice@example.com"
    assert client.userinfo(token)["sub"] == sub == rp.introspect(token.access_token)["sub"]
    refreshed = client.refresh_token(token)
    assert client.userinfo(refreshed)["sub"] == sub
