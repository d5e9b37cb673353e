"""The package type-checks: mypy with django-stubs ([tool.mypy] in pyproject.toml) reports no error.

The cache lives in the system's temporary directory, so a second run is incremental (a few seconds).
tests/package/test_wheel.py checks that the wheel ships the PEP 561 marker (mfa_oauth/py.typed).
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_mypy_reports_no_error_in_mfa_oauth():
    cache = Path(tempfile.gettempdir()) / "mfa_oauth-mypy-cache"
    run = subprocess.run(
        [sys.executable, "-m", "mypy", "--cache-dir", str(cache), "mfa_oauth"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]
    assert "Success: no issues found" in run.stdout
