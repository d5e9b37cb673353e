"""Upgrading a plain django-oauth-toolkit site: codes and refresh tokens issued before mfa_oauth keep
working, with an honestly unknown context (no acr, amr or auth_time); anything issued afterwards
without the gate's record is refused (docs/adoption.md, "Upgrading from plain DOT")."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _run(settings: str, *args: str, var_dir: Path) -> dict:
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": settings, "IDP_VAR_DIR": str(var_dir)}
    env["DATABASE_URL"] = f"sqlite:///{var_dir / 'idp.sqlite3'}"  # the file settings_plain_dot uses
    result = subprocess.run(
        [sys.executable, "-m", "tests.package.upgrade_scenario", *args],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-4000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_codes_and_refresh_tokens_from_plain_dot_survive_the_install(tmp_path):
    legacy = _run("tests.package.settings_plain_dot", "phase1", var_dir=tmp_path)
    after = _run("tests.settings", "phase2", json.dumps(legacy), var_dir=tmp_path)
    assert after["mark"] == [2, 1]  # two DOT codes, one refresh token existed at install time
    assert after["code"] == 200, after["code_claims"]
    for claims in (after["code_claims"], after["refresh_claims"]):
        assert "sub" in claims and not {"acr", "amr", "auth_time"} & set(claims)  # unknown, never upgraded
    assert after["refresh"] == 200 and after["refresh_again"] == 200  # the rotated token keeps working
    status, claims = after["userinfo"]
    assert status == 200 and "sub" in claims and not {"acr", "amr", "auth_time"} & set(claims)
    assert after["new_code"] == [400, "invalid_grant"]
    assert after["new_refresh"] == [400, "invalid_grant"]
