"""The wheel a project installs carries every template, static file and catalogue of every app of the package.

Projects get ``mfa_oauth`` from the built distribution, not from this checkout: a file missing from
the wheel is a 500 in their site (a sub-app's template) that no test run from the source tree sees.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _package_files(kind: str) -> set[str]:
    return {
        path.relative_to(ROOT).as_posix()
        for path in (ROOT / "mfa_oauth").rglob("*")
        if path.is_file() and kind in path.relative_to(ROOT).parts and "__pycache__" not in path.parts
    }


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> zipfile.ZipFile:
    # Built from a copy: setuptools writes build/ and *.egg-info into the tree it builds.
    source = tmp_path_factory.mktemp("source")
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    shutil.copytree(ROOT / "mfa_oauth", source / "mfa_oauth", ignore=shutil.ignore_patterns("__pycache__"))
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", str(source), "--no-deps", "-q", "-w", str(out)],
        check=True,
        timeout=600,
        cwd=out,
    )
    (built,) = out.glob("mfa_oauth-*.whl")
    return zipfile.ZipFile(built)


@pytest.mark.parametrize("kind", ["templates", "static", "locale"])
def test_every_template_and_static_file_is_in_the_wheel(wheel, kind):
    expected = _package_files(kind)
    assert expected, kind
    missing = expected - set(wheel.namelist())
    assert not missing, sorted(missing)


def test_every_migration_is_in_the_wheel(wheel):
    expected = {p for p in _package_files("migrations") if p.endswith(".py")}
    assert expected
    assert not expected - set(wheel.namelist())


def test_the_wheel_marks_the_package_typed(wheel):
    # PEP 561: without mfa_oauth/py.typed a project's type checker ignores the package's annotations.
    assert "mfa_oauth/py.typed" in wheel.namelist()
