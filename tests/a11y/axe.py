"""axe-core (Deque's accessibility engine, from the npm registry) for the browser tests.

Installed once per version into a cache folder by npm, then injected into the page under test with
Playwright's ``add_script_tag``; the test's browser context bypasses the site's CSP for that one
injected script (the site itself allows no inline script)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from tests.services import missing

AXE_VERSION = "4.14.1"
CACHE = Path(os.environ.get("MFA_OAUTH_TEST_CACHE", Path.home() / ".cache" / "mfa_oauth-tests"))
# WCAG 2.2 A/AA rules and axe's best practices; "serious" and "critical" fail the test.
RUN_OPTIONS = {
    "runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]}
}
FAILING_IMPACTS = ("serious", "critical")


def axe_script() -> Path:
    """The path of axe.min.js for AXE_VERSION, installed from the npm registry when not cached."""
    folder = CACHE / f"axe-core-{AXE_VERSION}"
    script = folder / "node_modules" / "axe-core" / "axe.min.js"
    if script.exists():
        return script
    npm = shutil.which("npm")
    if npm is None:
        missing("npm is not installed (apt-get install npm): the accessibility test installs axe-core with it")
    folder.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [npm, "install", "--prefix", str(folder), "--no-save", "--no-package-lock", "--no-audit", "--no-fund",
         f"axe-core@{AXE_VERSION}"],
        check=True, capture_output=True, timeout=300,
    )  # fmt: skip
    return script


def serious_violations(page, script: Path, within: str | None = None) -> list[dict]:
    """axe's serious and critical violations on the page as it is now (rule id, impact, help, nodes),
    on the whole document or only ``within`` a selector."""
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.add_script_tag(path=str(script))
    result = page.evaluate(
        "async ([context, options]) => await window.axe.run(context ?? document, options)",
        [{"include": [within]} if within else None, RUN_OPTIONS],
    )
    return [
        {
            "id": v["id"],
            "impact": v["impact"],
            "help": v["help"],
            "nodes": [n["html"][:200] for n in v["nodes"][:5]],
        }
        for v in result["violations"]
        if v["impact"] in FAILING_IMPACTS
    ]
