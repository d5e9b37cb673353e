"""A junk, forged or foreign "trust this browser" cookie never stands in for the second factor: a
password-only session still goes to the challenge, and nothing answers 5xx."""

from __future__ import annotations

from urllib.parse import urlparse

import pytest
from django.core import signing
from hypothesis import given
from hypothesis import strategies as st

from mfa_oauth.audit.models import EventKind
from mfa_oauth.trust.cookies import SALT, cookie_name
from mfa_oauth.trust.models import BrowserTrustPolicy
from tests.oauth import AuthorizationRequest

from .helpers import assert_no_credentials_in, assert_not_5xx, audit_counts, audit_delta, isolated
from .strategies import junk_text

pytestmark = pytest.mark.django_db

# What a cookie header can carry (printable ASCII without ; and ,), as Django's parser would see it.
COOKIE_CHARS = st.characters(min_codepoint=0x21, max_codepoint=0x7E, blacklist_characters=';,"\\')


def signed(payload) -> str:
    """Only someone with the site's key could make these: they exercise what follows the signature."""
    return signing.dumps(payload, salt=SALT)


def cookie_values(user_pk: int) -> st.SearchStrategy[str]:
    return st.one_of(
        st.text(COOKIE_CHARS, max_size=300),
        junk_text(60).map(lambda s: s.encode("unicode_escape").decode("ascii")[:300]),
        st.builds(lambda b: signed({"u": str(user_pk), "b": b}), junk_text(60)),
        st.builds(lambda u: signed({"u": u, "b": "00000000-0000-0000-0000-000000000000"}), junk_text(20)),
        st.sampled_from(
            [
                signed(["not", "a", "dict"]),
                signed({"u": user_pk, "b": None}),
                signed({"u": str(user_pk + 1), "b": "00000000-0000-0000-0000-000000000001"}),
            ]
        ),
    )


@pytest.fixture
def trusting(make_application, totp_device):
    app = make_application(mfa_mode="always")
    BrowserTrustPolicy.objects.create(application=app, remember_days=30)
    return app


@given(data=st.data())
def test_a_junk_trust_cookie_never_replaces_the_second_factor(user, trusting, sessions, data):
    value = data.draw(cookie_values(user.pk))
    with isolated(sessions["password only"]) as browser:
        before = audit_counts()
        browser.cookies[cookie_name()] = value
        response = browser.get(AuthorizationRequest().url())
        assert_not_5xx(response)
        assert response.status_code == 302 and urlparse(response["Location"]).path == "/mfa/verify/"
        assert_no_credentials_in(response["Location"])
        page = browser.get("/mfa/trust/")
        assert_not_5xx(page)
        delta = audit_delta(before)
        assert not delta.get(EventKind.MFA_SUCCEEDED) and not delta.get(EventKind.TOKENS_ISSUED), dict(delta)
