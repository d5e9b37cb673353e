"""OTP seeds (TOTP, HOTP, OATH TOTP) are encrypted in the database and only ever clear in memory.

Each test reads the ``key`` column with raw SQL, so it sees what a database dump or a backup would.
"""

from __future__ import annotations

import base64
import io
import re

import pyotp
import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.management import CommandError, call_command
from django.db import connection, transaction
from django.urls import reverse
from django_otp.plugins.otp_hotp.models import HOTPDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from mfa_oauth.operators import services
from mfa_oauth.seeds.keyring import is_sealed
from mfa_oauth.totp.models import OATHTOTPDevice
from tests.oauth import login

pytestmark = pytest.mark.django_db

SEED_HEX = b"12345678901234567890".hex()  # RFC 4226 Appendix D / RFC 6238 Appendix B (SHA-1)
LONGEST_HEX = "ab" * 40  # django-otp's key column holds at most 40 bytes (80 hex digits)
OATH_LONGEST_HEX = "cd" * 128  # OATHTOTPDevice: up to 128 bytes


def raw_key(model, pk) -> str:
    table = connection.ops.quote_name(model._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {connection.ops.quote_name('key')} FROM {table} WHERE id = %s", [pk])
        return cursor.fetchone()[0]


DEVICE_TYPES = [
    pytest.param(TOTPDevice, {}, id="totp"),
    pytest.param(HOTPDevice, {}, id="hotp"),
    pytest.param(OATHTOTPDevice, {"algorithm": "sha1"}, id="oath"),
]


@pytest.mark.parametrize(("model", "extra"), DEVICE_TYPES)
def test_the_key_column_never_holds_the_clear_seed(user, model, extra):
    device = model.objects.create(user=user, name="d", key=SEED_HEX, confirmed=True, **extra)
    stored = raw_key(model, device.pk)
    assert SEED_HEX not in stored.lower()
    assert base64.b32encode(bytes.fromhex(SEED_HEX)).decode().rstrip("=") not in stored.upper()
    # In memory the device still speaks django-otp's API: the hex key and its bytes.
    assert device.key == SEED_HEX
    assert model.objects.get(pk=device.pk).key == SEED_HEX
    assert model.objects.get(pk=device.pk).bin_key == bytes.fromhex(SEED_HEX)


@pytest.mark.parametrize(("model", "extra"), DEVICE_TYPES)
def test_a_generated_key_is_encrypted_too(user, model, extra):
    device = model.objects.create(user=user, name="d", confirmed=True, **extra)
    stored = raw_key(model, device.pk)
    assert device.key and device.key not in stored.lower()
    assert model.objects.get(pk=device.pk).key == device.key


@pytest.mark.parametrize(
    ("model", "seed_hex", "extra"),
    [(TOTPDevice, LONGEST_HEX, {}), (HOTPDevice, LONGEST_HEX, {}), (OATHTOTPDevice, OATH_LONGEST_HEX, {})],
    ids=["totp", "hotp", "oath"],
)
def test_the_longest_seed_fits_the_column(user, model, seed_hex, extra):
    device = model(user=user, name="d", key=seed_hex, confirmed=True, **extra)
    device.full_clean()  # max_length and the hex validator judge the clear seed
    device.save()
    stored = raw_key(model, device.pk)
    assert len(stored) <= model._meta.get_field("key").max_length
    assert model.objects.get(pk=device.pk).key == seed_hex


def test_totp_verify_token_accepts_pyotps_code(user):
    device = TOTPDevice.objects.create(user=user, name="phone", key=SEED_HEX, confirmed=True)
    device = TOTPDevice.objects.get(pk=device.pk)  # from the database, as the challenge step loads it
    assert device.verify_token(pyotp.TOTP(base64.b32encode(bytes.fromhex(SEED_HEX)).decode()).now())
    assert SEED_HEX not in raw_key(TOTPDevice, device.pk)  # verify_token's save() encrypted it again


def test_hotp_verify_token_accepts_pyotps_code(user):
    device = HOTPDevice.objects.create(user=user, name="token", key=SEED_HEX, confirmed=True)
    device = HOTPDevice.objects.get(pk=device.pk)
    assert device.verify_token(pyotp.HOTP(base64.b32encode(bytes.fromhex(SEED_HEX)).decode()).at(0))
    assert SEED_HEX not in raw_key(HOTPDevice, device.pk)


def all_raw_keys() -> list[str]:
    keys = []
    for model in (TOTPDevice, HOTPDevice, OATHTOTPDevice):
        table = connection.ops.quote_name(model._meta.db_table)
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT {connection.ops.quote_name('key')} FROM {table}")
            keys += [row[0] for row in cursor.fetchall()]
    return keys


def assert_every_seed_sealed() -> None:
    keys = all_raw_keys()
    assert keys, "the test wrote no device"
    assert all(is_sealed(key) for key in keys), keys


# --- every path that creates a device --------------------------------------------------------


def test_self_service_enrollment_stores_the_seed_sealed_and_the_shown_secret_works(client, make_application, user):
    make_application(mfa_mode="always")
    login(client)
    page = client.get("/mfa/enroll/totp/").content.decode()
    secret = re.search(r'id="mfa-secret">([A-Z2-7]+)<', page).group(1)
    assert_every_seed_sealed()  # the unconfirmed device too: the secret is only in the response
    assert secret not in str(dict(client.session))
    done = client.post("/mfa/enroll/totp/", {"token": pyotp.TOTP(secret).now()})
    assert done.status_code == 303
    assert TOTPDevice.objects.get(user=user).confirmed
    assert_every_seed_sealed()


def test_mfa_enroll_command_prints_a_uri_for_the_sealed_seed(user):
    out = io.StringIO()
    call_command("mfa_enroll", "alice", "--totp", stdout=out)
    totp = pyotp.parse_uri(re.search(r"^otpauth://\S+$", out.getvalue(), re.M).group(0))
    assert_every_seed_sealed()
    assert TOTPDevice.objects.get(user=user).verify_token(totp.now())


def test_operator_enrollment_seals_totp_and_hotp_and_still_refuses_a_duplicate_token(user, settings):
    with_keys(settings, OLD_KEY_DEV)
    services.enroll_totp(user, notify=False)
    services.enroll_hotp(user, SEED_HEX, notify=False)
    assert_every_seed_sealed()
    # The duplicate check compares seeds, so it holds for rows under an older key as well.
    with_keys(settings, NEW_KEY, OLD_KEY_DEV)
    with pytest.raises(services.EnrollmentError, match="already enrolled"):
        services.enroll_hotp(user, SEED_HEX, notify=False)


def test_mfa_import_seals_and_a_rerun_skips_what_is_enrolled(user, tmp_path):
    path = tmp_path / "users.csv"
    path.write_text(f"username,totp_secret,hotp_secret\nalice,{SEED_HEX},{LONGEST_HEX}\n")
    call_command("mfa_import", str(path), "--no-progress", "--no-notify", stdout=io.StringIO())
    assert_every_seed_sealed()
    assert TOTPDevice.objects.get(user=user).key == SEED_HEX and HOTPDevice.objects.get(user=user).key == LONGEST_HEX
    out = io.StringIO()
    call_command("mfa_import", str(path), "--no-progress", "--no-notify", stdout=out)
    assert "1 already enrolled" in out.getvalue()
    assert TOTPDevice.objects.count() == 1 and HOTPDevice.objects.count() == 1


def test_seed_demo_seals_the_demo_seeds():
    from idp_site.management.commands.seed_demo import DEMO_TOTP_KEY_HEX

    call_command("seed_demo", "--quiet")
    assert_every_seed_sealed()
    assert TOTPDevice.objects.filter(name="Demo authenticator").get().key == DEMO_TOTP_KEY_HEX


@pytest.mark.parametrize(
    ("url", "fields"),
    [
        (
            "admin:otp_hotp_hotpdevice_add",
            {"key": SEED_HEX, "digits": 6, "tolerance": 5, "counter": 0, "throttling_failure_count": 0},
        ),
        (
            "admin:mfa_oauth_oathtotpdevice_add",
            {"key": SEED_HEX, "algorithm": "sha256", "digits": 6, "step": 30, "t0": 0, "tolerance": 1},
        ),
    ],
    ids=["hotp", "oath"],
)
def test_admin_enrollment_by_secret_seals_it(client, user, django_user_model, url, fields):
    from tests.conftest import pass_second_factor

    admin = django_user_model.objects.create_superuser("root", "root@example.com", "x")
    pass_second_factor(client, admin)  # the admin's own device is a TOTPDevice: sealed as well
    response = client.post(reverse(url), {"user": user.pk, "name": "Vendor token", "confirmed": "on", **fields})
    assert response.status_code == 302, response.content.decode()[:500]
    assert_every_seed_sealed()


# --- rotation ----------------------------------------------------------------------------------

OLD_KEY_DEV = "old-seed-key-" + "o" * 32
NEW_KEY = "new-seed-key-" + "n" * 32


def with_keys(settings, *keys: str) -> None:
    settings.MFA_OAUTH = {**settings.MFA_OAUTH, "SEED_KEYS": list(keys)}


def rotate(*args: str) -> str:
    out = io.StringIO()
    call_command("mfa_rotate_seeds", *args, stdout=out)
    return out.getvalue()


def test_rotation_re_encrypts_with_the_new_key_and_the_old_key_can_then_go(user, settings):
    with_keys(settings, OLD_KEY_DEV)
    totp = TOTPDevice.objects.create(user=user, name="phone", key=SEED_HEX, confirmed=True)
    hotp_device = HOTPDevice.objects.create(user=user, name="token", key=SEED_HEX, confirmed=True)
    oath = OATHTOTPDevice.objects.create(user=user, name="sha1", key=SEED_HEX, algorithm="sha1", confirmed=True)
    before = {m: raw_key(m, d.pk) for m, d in ((TOTPDevice, totp), (HOTPDevice, hotp_device), (OATHTOTPDevice, oath))}

    with_keys(settings, NEW_KEY, OLD_KEY_DEV)  # deployed first: new key encrypts, old one still decrypts
    assert TOTPDevice.objects.get(pk=totp.pk).key == SEED_HEX
    with pytest.raises(CommandError, match="3 seed"):
        rotate("--check")
    assert raw_key(TOTPDevice, totp.pk) == before[TOTPDevice]  # --check wrote nothing
    out = rotate()
    assert "otp_totp.totpdevice: 0 already under the first key; 1 under an older key" in out
    after = {m: raw_key(m, d.pk) for m, d in ((TOTPDevice, totp), (HOTPDevice, hotp_device), (OATHTOTPDevice, oath))}
    assert all(after[m] != before[m] and is_sealed(after[m]) for m in after)
    assert rotate("--check").count("1 already under the first key") == 3  # and exits 0

    with_keys(settings, NEW_KEY)  # the old key removed
    secret = base64.b32encode(bytes.fromhex(SEED_HEX)).decode()
    assert TOTPDevice.objects.get(pk=totp.pk).verify_token(pyotp.TOTP(secret).now())
    assert HOTPDevice.objects.get(pk=hotp_device.pk).verify_token(pyotp.HOTP(secret).at(0))
    assert OATHTOTPDevice.objects.get(pk=oath.pk).bin_key == bytes.fromhex(SEED_HEX)


def test_removing_a_key_before_rotation_is_reported_and_loses_nothing(user, settings):
    with_keys(settings, OLD_KEY_DEV)
    device = TOTPDevice.objects.create(user=user, name="phone", key=SEED_HEX, confirmed=True)
    sealed = raw_key(TOTPDevice, device.pk)
    with_keys(settings, NEW_KEY)  # too early: no key opens the row
    loaded = TOTPDevice.objects.get(pk=device.pk)
    assert loaded.key == sealed  # still sealed on the instance: nothing can verify against it
    with pytest.raises(CommandError, match="cannot be re-encrypted"):
        rotate()
    loaded.save()  # a save writes the sealed value back unchanged
    assert raw_key(TOTPDevice, device.pk) == sealed
    with_keys(settings, NEW_KEY, OLD_KEY_DEV)  # the key restored: the seed is back
    assert TOTPDevice.objects.get(pk=device.pk).key == SEED_HEX


def test_rotation_seals_a_clear_row_written_outside_the_orm(user):
    device = TOTPDevice.objects.create(user=user, name="phone", confirmed=True)
    table = connection.ops.quote_name(TOTPDevice._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET {connection.ops.quote_name('key')} = %s WHERE id = %s", [SEED_HEX, device.pk]
        )
    assert TOTPDevice.objects.get(pk=device.pk).key == SEED_HEX  # an unmigrated clear row still works
    assert "1 in clear were re-encrypted" in rotate()
    assert is_sealed(raw_key(TOTPDevice, device.pk))
    assert TOTPDevice.objects.get(pk=device.pk).key == SEED_HEX


def test_a_sealed_value_belongs_to_its_table(user):
    totp = TOTPDevice.objects.create(user=user, name="phone", key=SEED_HEX, confirmed=True)
    hotp_device = HOTPDevice.objects.create(user=user, name="token", confirmed=True)
    table = connection.ops.quote_name(HOTPDevice._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET {connection.ops.quote_name('key')} = %s WHERE id = %s",
            [raw_key(TOTPDevice, totp.pk), hotp_device.pk],
        )
    assert HOTPDevice.objects.get(pk=hotp_device.pk).key != SEED_HEX  # copied ciphertext does not open


def test_dumpdata_writes_sealed_seeds_and_loaddata_reads_them(user, tmp_path):
    device = TOTPDevice.objects.create(user=user, name="phone", key=SEED_HEX, confirmed=True)
    dump = io.StringIO()
    call_command("dumpdata", "otp_totp.totpdevice", stdout=dump)
    assert SEED_HEX not in dump.getvalue()
    path = tmp_path / "devices.json"
    path.write_text(dump.getvalue())
    TOTPDevice.objects.all().delete()
    call_command("loaddata", str(path), stdout=io.StringIO())
    assert TOTPDevice.objects.get(pk=device.pk).key == SEED_HEX
    assert_every_seed_sealed()


def test_a_seed_that_is_not_hex_is_refused_before_anything_is_written(user):
    with pytest.raises(ValueError, match="hexadecimal"), transaction.atomic():
        TOTPDevice.objects.create(user=user, name="phone", key="not hex", confirmed=True)
    with pytest.raises(ValueError, match="empty"), transaction.atomic():
        TOTPDevice.objects.create(user=user, name="phone", key="", confirmed=True)
    assert not TOTPDevice.objects.exists()


# --- system checks -------------------------------------------------------------------------------


def check_ids(*, deploy: bool = False) -> list[str]:
    from django.core.checks import run_checks

    return [m.id for m in run_checks(include_deployment_checks=deploy) if m.id.startswith("mfa_oauth.E05")]


def test_no_explicit_key_is_an_error_when_debug_is_off_and_under_deploy(settings):
    settings.MFA_OAUTH = {k: v for k, v in settings.MFA_OAUTH.items() if k != "SEED_KEYS"}
    settings.DEBUG = False
    assert check_ids() == ["mfa_oauth.E050"]
    assert check_ids(deploy=True) == ["mfa_oauth.E050"]
    settings.DEBUG = True
    assert check_ids() == []  # development: the SECRET_KEY-derived default is fine
    assert check_ids(deploy=True) == ["mfa_oauth.E050"]
    with_keys(settings, NEW_KEY)
    assert check_ids(deploy=True) == []
    settings.DEBUG = False
    assert check_ids(deploy=True) == []


@pytest.mark.parametrize(
    "value",
    [NEW_KEY, ["short"], [NEW_KEY, NEW_KEY], [NEW_KEY, 42]],
    ids=["a-string-not-a-list", "too-short", "twice", "not-a-string"],
)
def test_malformed_keys_are_an_error_and_are_never_used(settings, user, value):
    settings.MFA_OAUTH = {**settings.MFA_OAUTH, "SEED_KEYS": value}
    assert check_ids() == ["mfa_oauth.E051"]
    with pytest.raises(ImproperlyConfigured, match="mfa_oauth.E051"), transaction.atomic():
        TOTPDevice.objects.create(user=user, name="phone", confirmed=True)
    assert not TOTPDevice.objects.exists()


def test_the_migration_keeps_django_otps_schema():
    out = io.StringIO()
    call_command("makemigrations", "--check", "--dry-run", stdout=out)
    assert "No changes detected" in out.getvalue()


# --- the data migration ----------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_the_data_migration_seals_clear_rows_and_reverses():
    from django.contrib.auth import get_user_model
    from django.db.migrations.executor import MigrationExecutor

    user = get_user_model().objects.create_user("mia", password="x")
    executor = MigrationExecutor(connection)
    (leaf,) = executor.loader.graph.leaf_nodes("mfa_oauth")
    # The data migration itself (later migrations of the app may follow it; they are applied at the end).
    latest = ("mfa_oauth", "0007_seed_encrypt_otp_seeds")
    before = executor.loader.graph.node_map[latest].parents
    (before,) = [parent.key for parent in before if parent.key[0] == "mfa_oauth"]
    executor.migrate([before])  # the schema as an older version left it
    graph = MigrationExecutor(connection).loader
    old = graph.project_state([before, *graph.graph.leaf_nodes("otp_totp"), *graph.graph.leaf_nodes("otp_hotp")]).apps
    seeds = {"otp_totp.TOTPDevice": SEED_HEX, "otp_hotp.HOTPDevice": LONGEST_HEX, "mfa_oauth.OATHTOTPDevice": "ef" * 64}
    pks = {}
    for label, seed in seeds.items():
        model = old.get_model(label)  # historical models: plain CharFields, so these rows are clear
        pks[label] = model.objects.create(user_id=user.pk, name="legacy", key=seed, confirmed=True).pk
    live = {
        "otp_totp.TOTPDevice": TOTPDevice,
        "otp_hotp.HOTPDevice": HOTPDevice,
        "mfa_oauth.OATHTOTPDevice": OATHTOTPDevice,
    }
    assert [raw_key(live[label], pks[label]) for label in seeds] == list(seeds.values())  # reproduced

    MigrationExecutor(connection).migrate([latest])
    for label, seed in seeds.items():
        stored = raw_key(live[label], pks[label])
        assert is_sealed(stored) and seed not in stored
        assert live[label].objects.get(pk=pks[label]).key == seed
    secret = base64.b32encode(bytes.fromhex(SEED_HEX)).decode()
    assert TOTPDevice.objects.get(pk=pks["otp_totp.TOTPDevice"]).verify_token(pyotp.TOTP(secret).now())

    MigrationExecutor(connection).migrate([before])  # reversible: the clear seeds come back
    assert [raw_key(live[label], pks[label]) for label in seeds] == list(seeds.values())
    MigrationExecutor(connection).migrate([latest])  # the later migrations too: the schema the suite expects
    assert all(is_sealed(raw_key(live[label], pks[label])) for label in seeds)
    MigrationExecutor(connection).migrate([leaf])


def test_a_seed_no_key_opens_is_a_clear_refusal_at_the_challenge_not_a_500(client, user, settings):
    # An operator removed a key before rotating: the user is told to use another factor (503), no
    # failure is counted against them and nothing is recorded in the session.
    from mfa_oauth.models import UserMFAState

    with_keys(settings, OLD_KEY_DEV)
    device = TOTPDevice.objects.create(user=user, name="phone", key=SEED_HEX, confirmed=True)
    login(client)
    with_keys(settings, NEW_KEY)
    code = pyotp.TOTP(base64.b32encode(bytes.fromhex(SEED_HEX)).decode()).now()
    response = client.post("/mfa/verify/", {"device": device.persistent_id, "token": code, "action": "verify"})
    assert response.status_code == 503
    assert b"cannot be used right now" in response.content
    assert not UserMFAState.objects.filter(user=user, failure_count__gt=0).exists()
    assert [f["method"] for f in client.session["mfa_oauth.context"]["factors"]] == ["pwd"]
    with_keys(settings, NEW_KEY, OLD_KEY_DEV)  # the key restored: the same code works again
    response = client.post("/mfa/verify/", {"device": device.persistent_id, "token": code, "action": "verify"})
    assert response.status_code in (302, 303)
