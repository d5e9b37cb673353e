"""mfa_oauth's introspection answers DOT's fields exactly, plus sub and acr/amr/auth_time, in one statement."""

from __future__ import annotations

import json
import secrets
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from oauth2_provider.models import get_access_token_model
from oauth2_provider.views import IntrospectTokenView

from mfa_oauth.oauth.introspection import MFAIntrospectTokenView

from .test_resource import T0, make_token

pytestmark = pytest.mark.django_db


def answers(value: str, caller) -> tuple[dict, dict]:
    """DOT's answer and ours to ``caller``, the client the token was issued to (ours answers no one
    else: tests/stepup/test_introspection_callers.py)."""
    dot = json.loads(IntrospectTokenView.get_token_response(value).content)
    with CaptureQueriesContext(connection) as queries:
        ours = json.loads(MFAIntrospectTokenView.get_token_response(value, caller=caller).content)
    assert len(queries) == 1
    return dot, ours


def test_a_users_token_gets_dots_fields_and_how_the_user_authenticated(user, application):
    value = make_token(user, application, "urn:mfa_oauth:acr:mfa", ["pwd", "otp"], T0)
    dot, ours = answers(value, application)
    # Plus the subject the client knows the user by (RFC 7662 §2.2 "sub"; public here: the user's pk).
    assert ours == {**dot, "sub": str(user.pk), "acr": "urn:mfa_oauth:acr:mfa", "amr": ["pwd", "otp"], "auth_time": T0}


@pytest.mark.parametrize("resource", [[], ["https://api.example/"]])
def test_a_clients_own_token_gets_exactly_dots_answer(application, resource):
    value = secrets.token_urlsafe(30)
    get_access_token_model().objects.create(
        user=None,
        application=application,
        token=value,
        scope="read",
        expires=timezone.now() + timedelta(seconds=600),
        resource=resource,
    )
    dot, ours = answers(value, application)
    assert ours == dot and dot["active"] is True and "acr" not in ours


def test_unknown_and_expired_tokens_are_inactive_as_with_dot(user, application):
    value = make_token(user, application, "urn:mfa_oauth:acr:mfa", ["pwd", "otp"], T0)
    get_access_token_model().objects.filter(user=user).update(expires=timezone.now() - timedelta(seconds=1))
    for token in (value, "no-such-token"):
        dot, ours = answers(token, application)
        assert ours == dot == {"active": False}
