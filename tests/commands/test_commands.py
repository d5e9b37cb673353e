"""Operator commands: mfa_enroll, mfa_reset, mfa_import."""

from __future__ import annotations

import base64
import csv
import io
import logging
import re
import time
import tracemalloc

import pyotp
import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.core.management import CommandError, call_command
from django_otp.plugins.otp_hotp.models import HOTPDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from mfa_oauth.audit.models import AuthEvent, EventKind
from mfa_oauth.backup_codes.models import BackupCodeDevice
from mfa_oauth.methods import confirmed_devices
from mfa_oauth.operators import services
from tests.account.cleartext import places_holding

SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"  # 20 bytes, base32
RFC4226_HEX = b"12345678901234567890".hex()


def run(*args) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command(*args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


# --- mfa_enroll / mfa_reset ------------------------------------------------------------------


def test_enroll_totp_prints_a_working_uri_and_qr(user):
    out, _ = run("mfa_enroll", "alice", "--totp", "--qr")
    uri = re.search(r"^otpauth://\S+$", out, re.M).group(0)
    totp = pyotp.parse_uri(uri)
    device = TOTPDevice.objects.get(user=user)
    assert device.confirmed and device.verify_token(totp.now())
    assert "█" in out or "▀" in out
    assert AuthEvent.objects.filter(kind=EventKind.FACTOR_ADDED, user=user, actor=None).count() == 1
    assert len(mail.outbox) == 1


def test_enroll_backup_codes_prints_working_codes(user, caplog):
    caplog.set_level(logging.DEBUG)
    out, _ = run("mfa_enroll", "alice", "--backup-codes")
    codes = re.findall(r"^[a-z2-7]{4}(?:-[a-z2-7]{4}){4}$", out, re.M)
    assert len(codes) == 10
    assert places_holding(codes, caplog.records) == []  # printed for the operator, logged and stored nowhere
    assert BackupCodeDevice.objects.get(user=user).verify_token(codes[3])


def test_enroll_refuses_clearly(user, monkeypatch):
    monkeypatch.setattr(services, "sms_installed", lambda: False)
    with pytest.raises(CommandError, match="No user named 'bob'"):
        run("mfa_enroll", "bob", "--totp")
    with pytest.raises(CommandError, match="SMS is not enabled"):
        run("mfa_enroll", "alice", "--sms", "+41791234567")
    with pytest.raises(CommandError, match="--qr only goes with --totp"):
        run("mfa_enroll", "alice", "--backup-codes", "--qr")
    assert confirmed_devices(user) == []


def test_reset_removes_everything(user, totp_device):
    run("mfa_enroll", "alice", "--backup-codes")
    out, _ = run("mfa_reset", "alice")
    assert "Removed 2 second factor(s)" in out
    assert confirmed_devices(user) == []
    assert AuthEvent.objects.filter(kind=EventKind.FACTOR_REMOVED, user=user).count() == 2


# --- mfa_import ------------------------------------------------------------------------------


@pytest.fixture
def users(db):
    User = get_user_model()
    return [User.objects.create_user(name, f"{name}@example.com", "x") for name in ("ann", "ben", "cat")]


def write(tmp_path, text: str | bytes, name: str = "users.csv"):
    path = tmp_path / name
    path.write_bytes(text if isinstance(text, bytes) else text.encode())
    return str(path)


GOOD_AND_BAD = f"""username,phone,totp_secret,hotp_secret,hotp_counter,name,department
ann,,{SECRET},,,,sales
ben,,,{RFC4226_HEX},5,ben's key,ops
zed,,{SECRET},,,,ops
cat,+1 555 0100,,,,,ops
cat,,not-base32!,,,,ops
cat,,,,,,ops
,,{SECRET},,,,ops
ben,,,{RFC4226_HEX},x,,ops
cat,,{SECRET},,,,ops,extra
"""


def test_import_good_and_bad_rows(tmp_path, users):
    report = tmp_path / "refused.csv"
    out, err = run("mfa_import", write(tmp_path, GOOD_AND_BAD), "--report", str(report))
    assert "Ignoring unknown columns: department" in out
    assert "Enrolled 2 row(s) (1 totp, 1 hotp)" in out and "7 refused" in out
    assert "100%" in err and "9/9 rows" in err  # the progress bar
    refused = {int(r["line"]): r["reason"] for r in csv.DictReader(report.open())}
    assert refused[4] == "unknown user"
    assert refused[5].startswith("bad number '+1 555 0100'")
    assert refused[6].startswith("totp_secret: The secret must be hex or base32")
    assert refused[7].startswith("nothing to enroll")
    assert refused[8] == "no username"
    assert refused[9] == "hotp_counter must be a whole number"
    assert refused[10] == "8 fields but the header has 7"
    ann, ben, cat = users
    totp = TOTPDevice.objects.get(user=ann)
    assert totp.verify_token(pyotp.TOTP(SECRET).now())
    hotp = HOTPDevice.objects.get(user=ben)
    assert (hotp.counter, hotp.name) == (5, "ben's key")
    assert confirmed_devices(cat) == []
    assert AuthEvent.objects.filter(kind=EventKind.FACTOR_ADDED).count() == 2
    assert AuthEvent.objects.get(user=ann).detail == {"source": "import"}

    # Running the same file again changes nothing and says so.
    out, _ = run("mfa_import", write(tmp_path, GOOD_AND_BAD), "--no-progress")
    assert "Enrolled 0 row(s)" in out and "2 already enrolled" in out
    assert TOTPDevice.objects.count() == 1 and HOTPDevice.objects.count() == 1


def test_dry_run_writes_nothing(tmp_path, users):
    out, _ = run("mfa_import", write(tmp_path, GOOD_AND_BAD), "--dry-run", "--no-progress")
    assert "Dry run, nothing written: 2 row(s) would be enrolled (1 totp, 1 hotp)" in out
    assert TOTPDevice.objects.count() == HOTPDevice.objects.count() == AuthEvent.objects.count() == 0


def test_sms_rows_are_refused_while_sms_is_not_installed(tmp_path, users, monkeypatch):
    monkeypatch.setattr(services, "sms_installed", lambda: False)
    out, _ = run("mfa_import", write(tmp_path, "username,phone\nann,+41791234567\n"), "--no-progress")
    assert "line 2: refused ann: SMS is not enabled on this site" in out


def test_no_notify(tmp_path, users):
    run("mfa_import", write(tmp_path, f"username,totp_secret\nann,{SECRET}\n"), "--no-notify", "--no-progress")
    assert mail.outbox == [] and AuthEvent.objects.filter(kind=EventKind.FACTOR_ADDED).count() == 1


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("", "The file is empty"),
        ("user,phone\nann,+41791234567\n", "No 'username' column. Found: user, phone"),
        ("username,email\nann,a@example.com\n", "No factor column"),
    ],
)
def test_missing_columns_stop_before_any_row(tmp_path, users, content, message):
    with pytest.raises(CommandError, match=message):
        run("mfa_import", write(tmp_path, content))


def test_missing_file_and_unknown_encoding(tmp_path, users):
    with pytest.raises(CommandError, match="Cannot read"):
        run("mfa_import", str(tmp_path / "nope.csv"))
    with pytest.raises(CommandError, match="Unknown encoding"):
        run("mfa_import", write(tmp_path, "username,phone\n"), "--encoding", "klingon")


def test_wrong_encoding_is_refused_per_row_and_fixed_by_encoding(tmp_path, db):
    User = get_user_model()
    User.objects.create_user("josé", "j@example.com", "x")
    latin1 = f"username,totp_secret\njosé,{SECRET}\n".encode("latin-1")
    out, _ = run("mfa_import", write(tmp_path, latin1), "--no-progress")
    assert "line 2: refused jos\ufffd: not valid utf-8-sig text (pass --encoding)" in out
    assert TOTPDevice.objects.count() == 0
    out, _ = run("mfa_import", write(tmp_path, latin1), "--encoding", "latin-1", "--no-progress")
    assert "Enrolled 1 row(s)" in out
    # A header that is not text in the given encoding stops at once.
    with pytest.raises(CommandError, match="header is not valid"):
        run("mfa_import", write(tmp_path, b"user\xffname,phone\n"))


def test_a_bom_and_windows_line_ends_are_fine(tmp_path, users):
    content = f"\ufeffUsername , TOTP_Secret\r\nann,{SECRET}\r\n".encode()
    out, _ = run("mfa_import", write(tmp_path, content), "--no-progress")
    assert "Enrolled 1 row(s) (1 totp)" in out


def test_100k_rows_are_streamed_in_batches(tmp_path, db, django_assert_max_num_queries):
    User = get_user_model()
    User.objects.bulk_create([User(username=f"u{i}") for i in range(300)])
    path = tmp_path / "big.csv"
    with path.open("w") as f:
        f.write("username,totp_secret\n")
        for i in range(100_000):
            # 300 real users with a fresh secret each, the rest unknown.
            secret = base64.b32encode(i.to_bytes(20, "big")).decode() if i < 300 else SECRET
            f.write(f"u{i},{secret}\n")
    tracemalloc.start()
    started = time.monotonic()
    out, err = run("mfa_import", str(path), "--no-notify", "--batch-size", "1000")
    elapsed = time.monotonic() - started
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert "Enrolled 300 row(s) (300 totp)" in out and "99700 refused" in out
    assert "Only the first 20 refusals are shown" in out
    assert "100000/100000 rows" in err
    assert TOTPDevice.objects.count() == 300
    assert peak < 30 * 1024 * 1024, f"peak {peak / 1e6:.1f} MB"
    print(f"100k rows in {elapsed:.1f} s, peak traced memory {peak / 1e6:.1f} MB")
