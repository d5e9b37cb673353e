"""Migrations need nothing django-oauth-toolkit does not need: a project that leaves DOT's model
settings (``OAUTH2_PROVIDER_ACCESS_TOKEN_MODEL`` and friends) at DOT's defaults migrates."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_migrate_with_dots_default_model_settings(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}  # the embedded SQLite default
    env |= {"DJANGO_SETTINGS_MODULE": "tests.package.settings_dot_defaults", "IDP_VAR_DIR": str(tmp_path)}
    code = (
        "import django; django.setup()\n"
        "from django.conf import settings\n"
        "assert not [n for n in dir(settings) if n.startswith('OAUTH2_PROVIDER_') and n.endswith('_MODEL')]\n"
        "from django.core.management import call_command\n"
        "call_command('migrate', verbosity=0)\n"
        "call_command('makemigrations', '--check', '--dry-run', verbosity=0)\n"
        "print('migrated')\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "migrated" in result.stdout
