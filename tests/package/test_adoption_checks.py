"""System checks that name what a project adding mfa_oauth forgot (mfa_oauth.E060-E065, W060-W064),
at ``check`` time instead of a 500 at the first request (docs/adoption.md)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.checks import run_checks

ROOT = Path(__file__).resolve().parents[2]
ISS = "COMPLIANT_BCP_RFC9700_AUTHZ_RESPONSE_ISS"


def _ids(prefix: str = "mfa_oauth.") -> dict[str, object]:
    return {m.id: m for m in run_checks() if m.id and m.id.startswith(prefix)}


def _dot(settings, **values):
    settings.OAUTH2_PROVIDER = {**settings.OAUTH2_PROVIDER, **values}


def test_the_reference_settings_raise_none_of_them():
    assert not [i for i in _ids() if i[len("mfa_oauth.") :][:2] in ("E0", "W0") and "059" < i[-3:] < "080"]


def test_oidc_without_a_signing_key(settings):
    _dot(settings, OIDC_RSA_PRIVATE_KEY="")
    message = _ids()["mfa_oauth.E061"]
    assert message.is_serious() and "OIDC_RSA_PRIVATE_KEY" in message.hint


def test_oidc_without_the_openid_scope(settings):
    _dot(settings, SCOPES={"read": "Read"})
    message = _ids()["mfa_oauth.E062"]
    assert message.is_serious() and "OAUTH2_PROVIDER['SCOPES']" in message.hint


def test_oidc_off_needs_neither(settings):
    _dot(settings, OIDC_ENABLED=False, OIDC_RSA_PRIVATE_KEY="", SCOPES={"read": "Read"})
    assert not {"mfa_oauth.E061", "mfa_oauth.E062"} & set(_ids())


@pytest.mark.parametrize(
    ("values", "check_id", "setting"),
    [
        (
            {"COMPLIANT_BCP_RFC9700_AUTHZ_RESPONSE_ISS": False},
            "mfa_oauth.W060",
            "COMPLIANT_BCP_RFC9700_AUTHZ_RESPONSE_ISS",
        ),
        ({"PKCE_REQUIRED": False}, "mfa_oauth.W061", "PKCE_REQUIRED"),
        ({"ALLOW_URI_WILDCARDS": True}, "mfa_oauth.W062", "ALLOW_URI_WILDCARDS"),
        ({"REFRESH_TOKEN_REUSE_PROTECTION": False}, "mfa_oauth.W063", "REFRESH_TOKEN_REUSE_PROTECTION"),
    ],
)
def test_rfc9700_flags_off(settings, values, check_id, setting):
    _dot(settings, **values)
    message = _ids()[check_id]
    assert not message.is_serious() and f"OAUTH2_PROVIDER['{setting}']" in message.hint


def test_no_otp_middleware(settings):
    settings.MIDDLEWARE = [m for m in settings.MIDDLEWARE if "OTPMiddleware" not in m]
    message = _ids()["mfa_oauth.E063"]
    assert message.is_serious() and "mfa_oauth.otp_middleware.LazyOTPMiddleware" in message.hint


def test_no_session_lifetime_middleware(settings):
    settings.MIDDLEWARE = [m for m in settings.MIDDLEWARE if m != "mfa_oauth.lifetime.SessionLifetimeMiddleware"]
    assert "mfa_oauth.lifetime.SessionLifetimeMiddleware" in _ids()["mfa_oauth.W064"].hint


@pytest.mark.parametrize("login_url", ["/nowhere/login/", "no-such-url-name"])
def test_login_url_that_resolves_nowhere(settings, login_url):
    settings.LOGIN_URL = login_url
    message = _ids()["mfa_oauth.E064"]
    assert message.is_serious() and 'include("mfa_oauth.auth_urls")' in message.hint


def test_factor_urls_included_without_the_app():
    """Including mfa_oauth.sms.urls without the app imports its models into app mfa_oauth."""
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env["DJANGO_SETTINGS_MODULE"] = "tests.package.settings_no_factor_apps"
    result = subprocess.run(
        [sys.executable, "manage.py", "check"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 1, result.stdout + result.stderr
    assert "(mfa_oauth.E060) mfa_oauth.sms is not in INSTALLED_APPS" in result.stderr
    assert "Add 'mfa_oauth.sms' to INSTALLED_APPS, or remove include('mfa_oauth.sms.urls')" in result.stderr
    # mfa_oauth.urls and mfa_oauth.oauth.urls themselves import no app that is not installed.
    assert "mfa_oauth.webauthn is not" not in result.stderr and "mfa_oauth.device is not" not in result.stderr
