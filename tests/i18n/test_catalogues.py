"""The shipped catalogues (mfa_oauth's and the reference site's) are complete: makemessages over the
current sources (into a temporary copy of each package, so the tree is never touched) adds no
untranslated entry and leaves none fuzzy; every translation keeps the placeholders of its msgid;
compilemessages succeeds; the shipped .mo files are the compiled .po files (no forgotten
recompilation)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import polib
import pytest

ROOT = Path(__file__).resolve().parents[2]
# Each package with its catalogues, and what makemessages leaves out there (the demo relying party
# stands for a third-party app: it is not the identity provider's to translate).
PACKAGES = {"mfa_oauth": (), "idp_site": ("demo/*",)}
LOCALES = ("de", "es", "fr", "ja", "pt_BR", "zh_Hans")
# Python %-format and str.format placeholders (gettext's python-format / python-brace-format).
PLACEHOLDER = re.compile(r"%\([A-Za-z_]+\)[sdr]|%[sd]|\{[A-Za-z_0-9]*\}")

pytestmark = pytest.mark.skipif(shutil.which("msgfmt") is None, reason="GNU gettext is installed by .ci/run")


def _django_admin(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}  # a settings-free run
    return subprocess.run(
        [sys.executable, "-m", "django", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=300
    )


@pytest.fixture(scope="module")
def refreshed(tmp_path_factory) -> dict[str, Path]:
    """Copies of the packages whose catalogues makemessages has brought up to date with the sources."""
    copies = {}
    for package, ignored in PACKAGES.items():
        copy = tmp_path_factory.mktemp("i18n") / package
        shutil.copytree(ROOT / package, copy, ignore=shutil.ignore_patterns("__pycache__", "*.mo"))
        args = [*(f"--locale={code}" for code in LOCALES), *(f"--ignore={pattern}" for pattern in ignored)]
        done = _django_admin("makemessages", *args, cwd=copy)
        assert done.returncode == 0, done.stderr
        copies[package] = copy
    return copies


@pytest.mark.parametrize("package", PACKAGES)
def test_every_shipped_language_has_a_catalogue(package):
    shipped = sorted(p.name for p in (ROOT / package / "locale").iterdir() if p.is_dir())
    assert shipped == sorted(LOCALES)


@pytest.mark.parametrize("package", PACKAGES)
@pytest.mark.parametrize("code", LOCALES)
def test_the_catalogue_is_complete_for_the_current_sources(refreshed, package, code):
    catalogue = polib.pofile(str(refreshed[package] / "locale" / code / "LC_MESSAGES" / "django.po"))
    live = [entry for entry in catalogue if not entry.obsolete]
    assert len(live) > (400 if package == "mfa_oauth" else 30)
    assert [entry.msgid for entry in catalogue.untranslated_entries()] == []
    assert [entry.msgid for entry in catalogue.fuzzy_entries()] == []


@pytest.mark.parametrize("package", PACKAGES)
@pytest.mark.parametrize("code", LOCALES)
def test_every_translation_keeps_its_placeholders(package, code):
    catalogue = polib.pofile(str(ROOT / package / "locale" / code / "LC_MESSAGES" / "django.po"))
    wrong = []
    for entry in catalogue.translated_entries():
        if entry.msgid_plural:
            # A language with one plural form has only the plural's placeholders; the others keep them all.
            allowed = set(PLACEHOLDER.findall(entry.msgid)) | set(PLACEHOLDER.findall(entry.msgid_plural))
            needed = set(PLACEHOLDER.findall(entry.msgid_plural))
            for form in entry.msgstr_plural.values():
                if not needed <= set(PLACEHOLDER.findall(form)) <= allowed:
                    wrong.append((entry.msgid, form))
        elif sorted(PLACEHOLDER.findall(entry.msgstr)) != sorted(PLACEHOLDER.findall(entry.msgid)):
            wrong.append((entry.msgid, entry.msgstr))
    assert wrong == []


@pytest.mark.parametrize("package", PACKAGES)
def test_compilemessages_succeeds_and_the_shipped_mo_files_match(refreshed, package):
    done = _django_admin("compilemessages", cwd=refreshed[package])
    assert done.returncode == 0, done.stderr
    for code in LOCALES:
        shipped = polib.mofile(str(ROOT / package / "locale" / code / "LC_MESSAGES" / "django.mo"))
        source = polib.pofile(str(ROOT / package / "locale" / code / "LC_MESSAGES" / "django.po"))
        compiled = {(e.msgctxt, e.msgid): (e.msgstr, e.msgstr_plural) for e in shipped if e.msgid}
        expected = {(e.msgctxt, e.msgid): (e.msgstr, e.msgstr_plural) for e in source.translated_entries()}
        assert compiled == expected, f"{package}/{code}: run compilemessages in {package}/ and commit the .mo"
