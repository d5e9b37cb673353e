"""Backup codes from the security page: shown once, downloadable once, single use, regeneration."""

from __future__ import annotations

import logging
import re
import time

import pytest
import time_machine
from django.core import mail

from mfa_oauth.audit.models import AuthEvent, EventKind
from mfa_oauth.backup_codes.models import BackupCodeDevice
from tests.account.cleartext import places_holding
from tests.account.helpers import give_mfa, login

URL = "/account/security/backup-codes/"


def _codes(response) -> list[str]:
    return re.findall(r"<code>([a-z2-7-]{24})</code>", response.content.decode())


def _download(client, page):
    """Post the page's download form (the codes sealed in it; nothing of them on the server)."""
    form = re.search(r'<form[^>]*id="backup-download-form".*?</form>', page.content.decode(), re.S).group(0)
    fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', form))
    return client.post(URL + "download/", fields)


def _use(client, user, code: str):
    device = BackupCodeDevice.objects.get(user=user)
    client.logout()
    login(client, user)
    return client.post("/mfa/verify/", {"device": device.persistent_id, "token": code, "action": "verify"})


def test_generate_show_once_and_download_once(client, totp_device):
    user = totp_device.user
    give_mfa(client, user, totp_device)
    confirm = client.get(URL)
    assert confirm.status_code == 200 and 'id="backup-generate"' in confirm.content.decode()
    response = client.post(URL)
    codes = _codes(response)
    assert response.status_code == 200 and len(codes) == 10
    assert "no-store" in response["Cache-Control"]
    assert AuthEvent.objects.filter(kind=EventKind.BACKUP_CODES_GENERATED, user=user).count() == 1
    assert len(mail.outbox) == 1 and "backup codes" in mail.outbox[0].subject
    assert not any(code in mail.outbox[0].body for code in codes)
    event = AuthEvent.objects.get(kind=EventKind.BACKUP_CODES_GENERATED)
    assert not any(code in str(event.detail) for code in codes)

    download = _download(client, response)
    assert download.status_code == 200 and download["Content-Type"].startswith("text/plain")
    assert "attachment" in download["Content-Disposition"] and "no-store" in download["Cache-Control"]
    assert all(code in download.content.decode() for code in codes)
    again = _download(client, response)
    assert again.status_code == 303  # shown once: nothing left to download
    page = client.get("/account/security/").content.decode()
    assert "can no longer be downloaded" in page
    assert not any(code in page for code in codes)
    assert "10 unused codes left" in page


def test_done_forgets_the_codes(client, totp_device):
    give_mfa(client, totp_device.user, totp_device)
    page = client.post(URL)
    assert client.post(URL + "done/").status_code == 303
    assert _download(client, page).status_code == 303


@pytest.mark.parametrize("engine", ["idp_site.sessions.db", "idp_site.sessions.cached_db"])
def test_new_codes_are_stored_nowhere_in_clear(client, totp_device, settings, caplog, engine):
    """Not in the session (row or cache), not in any table, not in the logs: only on the page
    that answers the POST, and in the one download (docs/security.md "Backup codes")."""
    settings.SESSION_ENGINE = engine
    caplog.set_level(logging.DEBUG)
    give_mfa(client, totp_device.user, totp_device)
    page = client.post(URL)
    codes = _codes(page)
    assert len(codes) == 10
    assert places_holding(codes, caplog.records) == []
    download = _download(client, page)
    assert all(code in download.content.decode() for code in codes)
    assert places_holding(codes, caplog.records) == []
    assert client.post(URL + "done/").status_code == 303
    assert places_holding(codes, caplog.records) == []


def test_the_download_form_is_bound_to_its_session_and_short_lived(client, totp_device):
    user = totp_device.user
    give_mfa(client, user, totp_device)
    page = client.post(URL)
    # Another session of the same user (a stolen copy of the form) cannot download them.
    other = client.__class__()
    give_mfa(other, user, totp_device)
    assert _download(other, page).status_code == 303
    # Nor this session once the page is older than the codes' download window.
    with time_machine.travel(time.time() + 601):
        give_mfa(client, user, totp_device)
        assert _download(client, page).status_code == 303
    # A GET (a bookmark, a reload) has no seal to offer.
    assert client.get(URL + "download/").status_code == 303
    # A form tampered with is refused with the same clear message, never a 500.
    refused = client.post(URL + "download/", {"sealed": "not-a-seal"})
    assert refused.status_code == 303
    assert "can no longer be downloaded" in client.get(refused["Location"]).content.decode()


def test_a_backup_code_works_once_and_notifies(client, totp_device):
    user = totp_device.user
    give_mfa(client, user, totp_device)
    codes = _codes(client.post(URL))
    mail.outbox.clear()
    assert _use(client, user, codes[0]).status_code == 303
    assert AuthEvent.objects.filter(kind=EventKind.BACKUP_CODE_USED, user=user).count() == 1
    assert AuthEvent.objects.get(kind=EventKind.BACKUP_CODE_USED).detail == {"remaining": 9}
    assert not AuthEvent.objects.filter(kind=EventKind.MFA_SUCCEEDED, method="backup_code").exists()
    assert len(mail.outbox) == 1 and "backup code was used" in mail.outbox[0].subject
    assert "9" in mail.outbox[0].body and codes[0] not in mail.outbox[0].body
    BackupCodeDevice.objects.filter(user=user).update(throttling_failure_count=0, throttling_failure_timestamp=None)
    second = _use(client, user, codes[0])
    assert second.status_code == 200 and 'id="mfa-error"' in second.content.decode()


def test_regenerating_invalidates_the_old_set(client, totp_device):
    user = totp_device.user
    give_mfa(client, user, totp_device)
    old = _codes(client.post(URL))
    give_mfa(client, user, totp_device)
    confirm = client.get(URL).content.decode()
    assert 'id="backup-replace-warning"' in confirm
    new = _codes(client.post(URL))
    assert set(old).isdisjoint(new)
    assert _use(client, user, old[1]).status_code == 200  # refused
    BackupCodeDevice.objects.filter(user=user).update(throttling_failure_count=0, throttling_failure_timestamp=None)
    assert _use(client, user, new[1]).status_code == 303


def test_backup_codes_need_another_factor_first(client, user):
    login(client, user)
    response = client.post(URL)
    assert response.status_code == 303
    assert not BackupCodeDevice.objects.filter(user=user).exists()
    assert "Add an authenticator app" in client.get("/account/security/").content.decode()
