"""Benchmark: one full authorization (authorize → login → [second factor] → consent → token) through
mfa_oauth, against plain django-oauth-toolkit measured in the same run, in-process with Django's test
client on an in-memory SQLite database.

    .venv/bin/python bench/authorize_flow.py [--rounds 40]

Prints milliseconds per flow (median and p90), SQL statements per flow, and the ratio to plain DOT.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import os
import re
import secrets
import statistics
import sys
import time
from html import unescape
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlparse

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402
from django.test import Client, override_settings  # noqa: E402
from django.test.utils import CaptureQueriesContext, setup_test_environment  # noqa: E402
from django.urls import include, path  # noqa: E402

REDIRECT = "https://rp.example/cb"
SECRET = "bench-secret"
PASSWORD = "bench password 1234"

# Plain DOT: its own views and validator, mounted beside the site for the comparison.
# DOT's URLs come first, so /o/ reaches plain DOT; the site's other pages (login, templates' links) stay.
from idp_site.urls import urlpatterns as site_urlpatterns  # noqa: E402

urlpatterns = [path("o/", include("oauth2_provider.urls", namespace="oauth2_provider")), *site_urlpatterns]
PLAIN_DOT = {
    "OIDC_ENABLED": True,
    "OIDC_RSA_PRIVATE_KEY": None,  # filled in main()
    "PKCE_REQUIRED": True,
    "SCOPES": {"openid": "openid", "profile": "profile", "email": "email"},
}


def hidden(html: str) -> dict[str, str]:
    return {k: unescape(v) for k, v in re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', html)}


def authorize_url(client_id: str, challenge: str) -> str:
    query = {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": REDIRECT,
        "scope": "openid",
        "state": "s",
        "nonce": "n",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }
    return f"/o/authorize/?{urlencode(query)}"


def pass_totp(c: Client, device, next_url: str) -> None:
    from pyotp import TOTP

    device.refresh_from_db()
    device.last_t = -1  # the bench reuses one clock step; replay protection is measured, not tripped
    device.save(update_fields=["last_t"])
    token = TOTP(base64.b32encode(device.bin_key).decode()).now()
    c.post(f"/mfa/verify/?{urlencode({'next': next_url})}", {"device": device.persistent_id, "token": token})


def one_flow(client_id: str, device=None) -> None:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).decode().rstrip("=")
    url = authorize_url(client_id, challenge)
    c = Client()
    c.get(url)
    c.post("/accounts/login/", {"username": "bench", "password": PASSWORD, "next": url})
    if device is not None:
        pass_totp(c, device, url)
    page = c.get(url)
    fields = hidden(page.content.decode())
    fields["allow"] = "Authorize"
    answer = c.post(url, fields)
    code = parse_qs(urlparse(answer["Location"]).query)["code"][0]
    token = c.post(
        "/o/token/",
        {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": REDIRECT,
            "code_verifier": verifier,
            "client_id": client_id,
            "client_secret": SECRET,
        },
    )
    assert token.status_code == 200, (token.content, answer["Location"], client_id)


def authorize_page(rounds: int, client_id: str, device=None) -> tuple[list[float], int]:
    """The hot path alone: GET /o/authorize/ for a session that is already fully signed in."""
    reset_oauthlib_cores()
    c = Client()
    url = authorize_url(client_id, "x" * 43)
    c.post("/accounts/login/", {"username": "bench", "password": PASSWORD, "next": "/"})
    if device is not None:
        pass_totp(c, device, "/")
    assert c.get(url).status_code == 200
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        c.get(url)
        times.append((time.perf_counter() - start) * 1000)
    with CaptureQueriesContext(connection) as queries:
        c.get(url)
    return times, len(queries)


def reset_oauthlib_cores() -> None:
    """DOT caches its oauthlib core (and so the validator class) on each view class."""
    from oauth2_provider.views.mixins import OAuthLibMixin

    pending = [OAuthLibMixin]
    while pending:
        cls = pending.pop()
        pending.extend(cls.__subclasses__())
        if "_oauthlib_core" in cls.__dict__:
            delattr(cls, "_oauthlib_core")


def measure(rounds: int, client_id: str, device=None) -> tuple[list[float], int]:
    reset_oauthlib_cores()
    one_flow(client_id, device)  # warm-up
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        one_flow(client_id, device)
        times.append((time.perf_counter() - start) * 1000)
    with CaptureQueriesContext(connection) as queries:
        one_flow(client_id, device)
    return times, len(queries)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=40)
    rounds = parser.parse_args().rounds

    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.test.runner import DiscoverRunner
    from django_otp.plugins.otp_totp.models import TOTPDevice
    from oauth2_provider.models import get_application_model

    setup_test_environment()
    runner = DiscoverRunner(verbosity=0)
    old = runner.setup_databases()
    try:
        user = get_user_model().objects.create_user("bench", password=PASSWORD)
        device = TOTPDevice.objects.create(user=user, name="bench", confirmed=True)
        Application = get_application_model()
        for client_id in ("plain", "mfa"):
            Application.objects.create(
                client_id=client_id,
                client_secret=SECRET,
                name=client_id,
                user=user,
                client_type="confidential",
                authorization_grant_type="authorization-code",
                redirect_uris=REDIRECT,
                algorithm="RS256",
            )

        mfa_times, mfa_queries = measure(rounds, "mfa", device)
        mfa_page = authorize_page(rounds * 5, "mfa", device)
        plain = {**PLAIN_DOT, "OIDC_RSA_PRIVATE_KEY": settings.OAUTH2_PROVIDER["OIDC_RSA_PRIVATE_KEY"]}
        with override_settings(ROOT_URLCONF=__name__, OAUTH2_PROVIDER=plain, LOGIN_URL="/accounts/login/"):
            plain_times, plain_queries = measure(rounds, "plain")
            plain_page = authorize_page(rounds * 5, "plain")
    finally:
        runner.teardown_databases(old)

    def row(name, times, queries):
        med, p90 = statistics.median(times), sorted(times)[int(len(times) * 0.9) - 1]
        return f"{name:<28} {med:8.1f} ms median {p90:8.1f} ms p90 {queries:5d} SQL"

    print(f"full authorization flow, {rounds} rounds each, in-process, SQLite in memory")
    print(row("plain django-oauth-toolkit", plain_times, plain_queries))
    print(row("mfa_oauth (password + TOTP)", mfa_times, mfa_queries))
    print(
        f"ratio mfa_oauth / plain DOT: {statistics.median(mfa_times) / statistics.median(plain_times):.2f}x time, "
        f"{mfa_queries / plain_queries:.2f}x SQL (mfa_oauth does one more round trip: the challenge step)"
    )
    print()
    print(f"GET /o/authorize/ (consent page) for a signed-in session, {rounds * 5} rounds each")
    print(row("plain django-oauth-toolkit", *plain_page))
    print(row("mfa_oauth (gate + DOT)", *mfa_page))
    print(
        f"ratio mfa_oauth / plain DOT: {statistics.median(mfa_page[0]) / statistics.median(plain_page[0]):.2f}x time, "
        f"{mfa_page[1] / plain_page[1]:.2f}x SQL"
    )


if __name__ == "__main__":
    main()
