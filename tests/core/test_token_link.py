"""One TokenLink row per token pair (mfa_oauth.models.TokenLink) and what reads it: refresh, userinfo,
the app_authorized signal; migration 0009 folds the old per-token link rows into it and back."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from oauth2_provider.models import get_access_token_model, get_refresh_token_model
from oauth2_provider.signals import app_authorized

from mfa_oauth.models import AuthenticationRecord, TokenLink
from tests.conftest import CLIENT_SECRET
from tests.oauth import full_authorization

pytestmark = pytest.mark.django_db


def refresh(client, refresh_token: str):
    return client.post(
        "/o/token/",
        {
            "grant_type": "refresh_token",
            "refresh_token": refresh_token,
            "client_id": "rp",
            "client_secret": CLIENT_SECRET,
        },
    )


def test_a_token_pair_has_one_link_row_and_refresh_keeps_the_authentication(client, application, totp_device):
    tokens = full_authorization(client, totp_device)
    access = get_access_token_model().objects.get(token_checksum=_checksum(tokens["access_token"]))
    (link,) = TokenLink.objects.all()
    assert link.access_token == access and link.refresh_token == access.refresh_token
    record = link.record

    answer = refresh(client.__class__(), tokens["refresh_token"])
    assert answer.status_code == 200, answer.content
    renewed = answer.json()
    new_access = get_access_token_model().objects.get(token_checksum=_checksum(renewed["access_token"]))
    new_link = TokenLink.objects.get(access_token=new_access)
    assert new_link.refresh_token == new_access.refresh_token and new_link.record == record
    userinfo = client.__class__().get("/o/userinfo/", HTTP_AUTHORIZATION=f"Bearer {renewed['access_token']}")
    assert userinfo.status_code == 200 and userinfo.json()["amr"] == list(record.amr)


def test_app_authorized_is_sent_with_the_access_token_issued(client, application, totp_device):
    seen = []

    def receiver(sender, request, token, **kwargs):
        seen.append(token)

    app_authorized.connect(receiver)
    try:
        tokens = full_authorization(client, totp_device)
    finally:
        app_authorized.disconnect(receiver)
    assert [t.token_checksum for t in seen] == [_checksum(tokens["access_token"])]
    assert seen[0].pk == get_access_token_model().objects.get(token_checksum=seen[0].token_checksum).pk


def test_deleting_one_token_of_a_pair_keeps_the_other_ones_authentication(client, application, totp_device):
    tokens = full_authorization(client, totp_device)
    record = TokenLink.objects.get().record
    get_access_token_model().objects.filter(token_checksum=_checksum(tokens["access_token"])).delete()
    (link,) = TokenLink.objects.all()  # SET_NULL, not a cascade: the refresh token keeps its record
    assert link.access_token is None and link.refresh_token is not None and link.record == record


@pytest.mark.django_db(transaction=True)
def test_migration_0009_folds_the_link_rows_and_splits_them_back(client, application, totp_device):
    full_authorization(client, totp_device)
    access = get_access_token_model().objects.get()
    refresh_token = get_refresh_token_model().objects.get()
    record = AuthenticationRecord.objects.get()
    executor = MigrationExecutor(connection)
    (latest,) = executor.loader.graph.leaf_nodes("mfa_oauth")
    fold = ("mfa_oauth", "0013_token_link")
    (before,) = [p.key for p in executor.loader.graph.node_map[fold].parents if p.key[0] == "mfa_oauth"]
    try:
        executor.migrate([before])
        old = MigrationExecutor(connection).loader.project_state([before]).apps
        Access, Refresh = (
            old.get_model("mfa_oauth", "AccessTokenAuthentication"),
            old.get_model("mfa_oauth", "RefreshTokenAuthentication"),
        )
        assert list(Access.objects.values_list("access_token_id", "record_id")) == [(access.pk, record.pk)]
        assert list(Refresh.objects.values_list("refresh_token_id", "record_id")) == [(refresh_token.pk, record.pk)]
    finally:
        MigrationExecutor(connection).migrate([latest])
    assert list(TokenLink.objects.values_list("access_token_id", "refresh_token_id", "record_id")) == [
        (access.pk, refresh_token.pk, record.pk)
    ]


def _checksum(token: str) -> str:
    import hashlib

    return hashlib.sha256(token.encode()).hexdigest()
