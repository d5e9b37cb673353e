"""The authorization gate: a password-only session never obtains a code, whatever the path."""

from __future__ import annotations

from urllib.parse import parse_qs, urlparse

import pytest
import time_machine
from django.utils import timezone
from oauth2_provider.models import AccessToken, Grant

from tests.oauth import (
    AuthorizationRequest,
    callback_params,
    consent,
    declining_the_offer,
    form_fields,
    full_authorization,
    jwt_payload,
    login,
    pass_totp,
    redeem,
)

pytestmark = pytest.mark.django_db


def location_path(response) -> str:
    return urlparse(response["Location"]).path


def test_anonymous_is_sent_to_login_with_the_same_request(client, application):
    request = AuthorizationRequest()
    response = client.get(request.url())
    assert response.status_code == 302
    assert location_path(response) == "/accounts/login/"
    assert parse_qs(urlparse(response["Location"]).query)["next"] == [request.url()]


def test_password_only_session_goes_to_the_challenge_and_back(client, application, totp_device):
    request = AuthorizationRequest()
    login(client)
    response = client.get(request.url())
    assert location_path(response) == "/mfa/verify/"
    back = pass_totp(client, totp_device, next_url=request.url())
    assert back.status_code == 303
    assert back["Location"] == request.url()
    assert client.get(request.url()).status_code == 200  # the consent page


def test_half_authenticated_session_cannot_post_consent(client, application, totp_device):
    request = AuthorizationRequest()
    fields = {
        "client_id": "rp",
        "redirect_uri": request.redirect_uri,
        "response_type": "code",
        "scope": "openid",
        "state": request.state,
        "nonce": request.nonce,
        "code_challenge": request.challenge,
        "code_challenge_method": "S256",
        "allow": "Authorize",
    }
    login(client)
    response = client.post(request.url(), fields)
    assert location_path(response) == "/mfa/verify/"
    assert not Grant.objects.exists()


def test_half_authenticated_session_gets_no_code_from_a_skip_authorization_client(client, make_application, user):
    from django_otp.plugins.otp_totp.models import TOTPDevice

    make_application(skip_authorization=True)
    TOTPDevice.objects.create(user=user, name="phone", confirmed=True)
    login(client)
    response = client.get(AuthorizationRequest().url())
    assert location_path(response) == "/mfa/verify/"
    assert not Grant.objects.exists()


def test_half_authenticated_session_gets_no_code_with_approval_prompt_auto(client, application, totp_device):
    # A previous full authorization leaves a valid token, so DOT would auto-approve.
    full_authorization(client, totp_device)
    client.logout()
    login(client)
    response = client.get(AuthorizationRequest().url(approval_prompt="auto"))
    assert location_path(response) == "/mfa/verify/"
    assert Grant.objects.count() == 0 or not Grant.objects.filter(created__gt=timezone.now()).exists()
    assert "code=" not in response["Location"]


def test_prompt_none_without_second_factor_answers_interaction_required(client, application, totp_device):
    request = AuthorizationRequest()
    login(client)
    params = callback_params(client.get(request.url(prompt="none")))
    assert params["error"] == "interaction_required"
    assert params["state"] == request.state
    assert "code" not in params


def test_prompt_none_without_session_answers_login_required(client, application):
    request = AuthorizationRequest()
    params = callback_params(client.get(request.url(prompt="none")))
    assert params["error"] == "login_required"
    assert "code" not in params


def test_prompt_none_without_consent_answers_consent_required(client, application, totp_device):
    request = AuthorizationRequest()
    login(client, next_url=request.url())
    pass_totp(client, totp_device)
    params = callback_params(client.get(request.url(prompt="none")))
    assert params["error"] == "consent_required"


def test_prompt_none_after_consent_issues_a_code_silently(client, application, totp_device):
    full_authorization(client, totp_device)
    request = AuthorizationRequest()
    params = callback_params(client.get(request.url(prompt="none")))
    assert "code" in params and params["state"] == request.state


def test_prompt_login_forces_password_and_second_factor_again(client, application, totp_device):
    full_authorization(client, totp_device)
    request = AuthorizationRequest()
    response = client.get(request.url(prompt="login"))
    assert location_path(response) == "/accounts/login/"
    back = parse_qs(urlparse(response["Location"]).query)["next"][0]
    assert "prompt" not in back
    # The continuation waits for the new login: no code on the old session's strength.
    assert location_path(client.get(back)) == "/accounts/login/"
    login(client)
    assert location_path(client.get(back)) == "/mfa/verify/"


@pytest.mark.parametrize("extra", [{"prompt": "login"}, {"max_age": "0"}])
def test_reauthentication_request_does_not_log_the_user_out(client, application, totp_device, extra):
    # A cross-site link carrying prompt=login / max_age=0 must not end a complete sign-in: the
    # session stays until a new login succeeds (OIDC Core §3.1.2.1 asks for re-authentication).
    full_authorization(client, totp_device)
    context_before = client.session["mfa_oauth.context"]
    response = client.get(AuthorizationRequest().url(**extra))
    assert location_path(response) == "/accounts/login/"
    assert "_auth_user_id" in client.session
    assert client.session["mfa_oauth.context"] == context_before
    # Any other authorization request is unaffected: the session still gets its code silently.
    params = callback_params(client.get(AuthorizationRequest().url(prompt="none")))
    assert "code" in params


def test_max_age_zero_behaves_like_prompt_login(client, application, totp_device):
    full_authorization(client, totp_device)
    response = client.get(AuthorizationRequest().url(max_age="0"))
    assert location_path(response) == "/accounts/login/"
    back = parse_qs(urlparse(response["Location"]).query)["next"][0]
    assert "max_age" not in back
    assert location_path(client.get(back)) == "/accounts/login/"
    login(client)
    assert location_path(client.get(back)) == "/mfa/verify/"


def test_max_age_exceeded_forces_reauthentication_and_auth_time_is_fresh(client, application, totp_device):
    with time_machine.travel("2026-01-01 10:00:00Z", tick=False):
        first = full_authorization(client, totp_device)
    with time_machine.travel("2026-01-01 10:02:00Z", tick=False):
        request = AuthorizationRequest()
        response = client.get(request.url(max_age="60"))
        assert location_path(response) == "/accounts/login/"
    with time_machine.travel("2026-01-01 10:03:00Z", tick=False):
        tokens = full_authorization(client, totp_device, AuthorizationRequest(extra={"max_age": "60"}))
    assert jwt_payload(tokens["id_token"])["auth_time"] > jwt_payload(first["id_token"])["auth_time"]


def test_max_age_within_limit_passes(client, application, totp_device):
    full_authorization(client, totp_device)
    assert client.get(AuthorizationRequest().url(max_age="300")).status_code == 200


@pytest.mark.parametrize("value", ["-1", "abc", "1e3", "９"])
def test_malformed_max_age_is_an_oauth_error(client, application, totp_device, value):
    full_authorization(client, totp_device)
    params = callback_params(client.get(AuthorizationRequest().url(max_age=value)))
    assert params["error"] == "invalid_request"


def test_acr_values_above_reach_yields_unmet_authentication_requirements(client, application, totp_device):
    full_authorization(client, totp_device)
    params = callback_params(declining_the_offer(client.get(AuthorizationRequest().url(acr_values="phr"))))
    assert params["error"] == "unmet_authentication_requirements"
    assert "code" not in params


def test_acr_values_for_mfa_forces_second_factor_on_an_off_client(client, make_application, totp_device):
    make_application(mfa_mode="off")
    request = AuthorizationRequest()
    login(client)
    assert client.get(request.url()).status_code == 200  # password is enough for this client
    response = client.get(request.url(acr_values="urn:mfa_oauth:acr:mfa"))
    assert location_path(response) == "/mfa/verify/"


def test_unknown_acr_values_are_voluntary_and_report_the_achieved_level(client, application, totp_device):
    tokens = full_authorization(client, totp_device, AuthorizationRequest(extra={"acr_values": "urn:other:gold"}))
    assert jwt_payload(tokens["id_token"])["acr"] == "urn:mfa_oauth:acr:mfa"


def test_essential_acr_claim_that_cannot_be_met_fails(client, application, totp_device):
    full_authorization(client, totp_device)
    claims = '{"id_token": {"acr": {"essential": true, "values": ["phrh"]}}}'
    params = callback_params(client.get(AuthorizationRequest().url(claims=claims)))
    assert params["error"] == "unmet_authentication_requirements"


def test_off_policy_client_accepts_password_only(client, make_application, user):
    make_application(mfa_mode="off")
    request = AuthorizationRequest()
    login(client)
    params = callback_params(consent(client, request))
    claims = jwt_payload(redeem(client, params["code"], request).json()["id_token"])
    assert claims["acr"] == "urn:mfa_oauth:acr:pwd"
    assert claims["amr"] == ["pwd"]


def test_always_policy_takes_a_user_without_device_through_enrollment(client, make_application, user):
    import re

    import pyotp

    make_application(mfa_mode="always")
    request = AuthorizationRequest()
    login(client)
    response = client.get(request.url())
    assert location_path(response) == "/mfa/enroll/totp/"
    page = client.get(response["Location"])
    assert "no-store" in page["Cache-Control"]
    assert "<svg" in page.content.decode()
    secret = re.search(r'id="mfa-secret">([A-Z2-7]+)<', page.content.decode()).group(1)
    done = client.post(response["Location"], {"token": pyotp.TOTP(secret).now(), "next": request.url()})
    assert done.status_code == 303 and done["Location"] == request.url()
    params = callback_params(consent(client, request))
    claims = jwt_payload(redeem(client, params["code"], request).json()["id_token"])
    assert set(claims["amr"]) == {"pwd", "otp", "mfa"}


def test_enrollment_page_shows_a_new_secret_on_reload(client, make_application, user):
    import re

    make_application(mfa_mode="always")
    login(client)
    first = client.get("/mfa/enroll/totp/").content.decode()
    second = client.get("/mfa/enroll/totp/").content.decode()
    pattern = r'id="mfa-secret">([A-Z2-7]+)<'
    assert re.search(pattern, first).group(1) != re.search(pattern, second).group(1)
    from django_otp.plugins.otp_totp.models import TOTPDevice

    assert TOTPDevice.objects.filter(user=user).count() == 1  # the first one was discarded


def test_session_id_rotates_after_password_and_after_second_factor(client, application, totp_device):
    client.get("/accounts/login/")
    before = client.cookies.get("sessionid")
    login(client)
    after_password = client.cookies["sessionid"].value
    pass_totp(client, totp_device)
    after_mfa = client.cookies["sessionid"].value
    assert before is None or before.value != after_password
    assert after_password != after_mfa


def test_half_authenticated_state_expires(client, application, totp_device):
    request = AuthorizationRequest()
    with time_machine.travel("2026-01-01 10:00:00Z", tick=False):
        login(client)
    with time_machine.travel("2026-01-01 10:11:00Z", tick=False):
        response = client.get(request.url())
    assert location_path(response) == "/accounts/login/"


def test_code_is_single_use_and_reuse_revokes_tokens(client, application, totp_device):
    request = AuthorizationRequest()
    login(client, next_url=request.url())
    pass_totp(client, totp_device)
    code = callback_params(consent(client, request))["code"]
    first = redeem(client, code, request)
    assert first.status_code == 200
    second = redeem(client, code, request)
    assert second.status_code == 400 and second.json()["error"] == "invalid_grant"


def test_consent_form_fields_are_preserved(client, application, totp_device):
    request = AuthorizationRequest()
    login(client, next_url=request.url())
    pass_totp(client, totp_device)
    fields = form_fields(client.get(request.url()))
    assert fields["state"] == request.state and fields["code_challenge"] == request.challenge
    assert AccessToken.objects.count() == 0


# --- allowed methods: a user with any factor never passes on the password alone ---------------


def security_key(user):
    from tests.stepup.keyapp.models import TestSecurityKey

    return TestSecurityKey.objects.create(user=user, name="key", confirmed=True, secret="testkey0secret0abc")


def test_when_enrolled_client_restricted_to_another_method_gives_no_code_on_the_password(
    client, make_application, totp_device
):
    # The user's only factor (TOTP) is not one the client allows, and the enroll URL (TOTP's)
    # cannot add one it allows: the request cannot be met, and the password alone is not enough.
    make_application(mfa_mode="when_enrolled", allowed_methods=["webauthn"], skip_authorization=True)
    request = AuthorizationRequest()
    login(client)
    params = callback_params(declining_the_offer(client.get(request.url())))
    assert params["error"] == "unmet_authentication_requirements"
    assert params["state"] == request.state
    assert "code" not in params
    assert not Grant.objects.exists()


def test_always_client_restricted_to_a_method_the_enroll_url_cannot_add_is_unmet(client, make_application, totp_device):
    # Enrolling another TOTP would not satisfy the client: no endless trip through enrollment.
    make_application(mfa_mode="always", allowed_methods=["webauthn"])
    login(client)
    params = callback_params(declining_the_offer(client.get(AuthorizationRequest().url())))
    assert params["error"] == "unmet_authentication_requirements"
    assert "code" not in params


def test_when_enrolled_user_without_an_allowed_factor_is_sent_to_enroll_one(client, make_application, user):
    import re

    import pyotp
    from django_otp.plugins.otp_totp.models import TOTPDevice

    key = security_key(user)  # a factor, but not the one the client allows
    make_application(mfa_mode="when_enrolled", allowed_methods=["totp"], skip_authorization=True)
    request = AuthorizationRequest()
    with time_machine.travel("2026-01-01 10:00:00Z", tick=False) as clock:
        login(client)
        enroll = client.get(request.url())
        assert location_path(enroll) == "/mfa/enroll/totp/"
        assert not Grant.objects.exists()
        # Adding a factor needs the one the user has (a fresh second factor) ...
        step_up = client.get(enroll["Location"])
        assert location_path(step_up) == "/mfa/verify/"
        back = parse_qs(urlparse(step_up["Location"]).query)["next"][0]
        data = {"device": key.persistent_id, "token": key.secret, "action": "verify", "next": back}
        assert client.post(step_up["Location"], data)["Location"] == back
        page = client.get(back).content.decode()
        secret = re.search(r'id="mfa-secret">([A-Z2-7]+)<', page).group(1)
        done = client.post(back, {"token": pyotp.TOTP(secret).now(), "next": request.url()})
        assert done["Location"] == request.url()
        # ... and the client then asks for the factor it allows, not the key.
        challenge = client.get(request.url())
        assert location_path(challenge) == "/mfa/verify/"
        assert parse_qs(urlparse(challenge["Location"]).query)["methods"] == ["totp"]
        clock.shift(30)  # the enrollment used this TOTP step
        pass_totp(client, TOTPDevice.objects.get(user=user), next_url=request.url())
        params = callback_params(client.get(request.url()))
        claims = jwt_payload(redeem(client, params["code"], request).json()["id_token"])
    assert "otp" in claims["amr"]


def test_the_enroll_url_decides_what_can_be_enrolled(client, make_application, totp_device, settings):
    settings.MFA_OAUTH = {**settings.MFA_OAUTH, "ENROLL_URL": "mfa_oauth:webauthn-register"}
    make_application(mfa_mode="when_enrolled", allowed_methods=["webauthn"], skip_authorization=True)
    login(client)
    response = client.get(AuthorizationRequest().url())
    assert location_path(response) == "/mfa/webauthn/"
    assert not Grant.objects.exists()


def test_when_enrolled_user_with_an_allowed_factor_is_asked_for_it(client, make_application, totp_device, user):
    security_key(user)
    make_application(mfa_mode="when_enrolled", allowed_methods=["testkey"], skip_authorization=True)
    login(client)
    response = client.get(AuthorizationRequest().url())
    assert location_path(response) == "/mfa/verify/"
    query = parse_qs(urlparse(response["Location"]).query)
    assert query["methods"] == ["testkey"]
    assert not Grant.objects.exists()


def test_when_enrolled_user_without_any_factor_still_passes_on_the_password(client, make_application, user):
    make_application(mfa_mode="when_enrolled", allowed_methods=["webauthn"], skip_authorization=True)
    login(client)
    params = callback_params(client.get(AuthorizationRequest().url()))
    assert "code" in params


@pytest.mark.parametrize("with_middleware", [False, True])
def test_login_required_middleware_does_not_hide_the_endpoints_own_answers(
    client, application, settings, with_middleware
):
    # Django's LoginRequiredMiddleware must not stand in for the authorization endpoint (DOT exempts
    # its view): an anonymous prompt=none hears login_required, an unknown client gets the error page.
    if with_middleware:
        settings.MIDDLEWARE = [*settings.MIDDLEWARE, "django.contrib.auth.middleware.LoginRequiredMiddleware"]
    request = AuthorizationRequest()
    params = callback_params(client.get(request.url(prompt="none")))
    assert params["error"] == "login_required" and params["state"] == request.state
    assert client.get(request.url(client_id="no-such-client")).status_code == 400
    response = client.get(request.url())
    assert location_path(response) == "/accounts/login/"
    assert parse_qs(urlparse(response["Location"]).query)["next"][0] == request.url()
