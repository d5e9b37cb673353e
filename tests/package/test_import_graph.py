"""mfa_oauth has no import cycle, counting the imports deferred into functions too (scripts/import_graph.py).

A cycle held together by imports inside functions still ties the modules' order of loading together
and hides the dependency from readers; the SMS app breaks its former one with mfa_oauth.sms.outbox,
mfa_oauth.sms.exceptions and callbacks connected in SMSConfig.ready().
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts"))

import import_graph  # noqa: E402


def test_no_import_cycle_in_mfa_oauth():
    for deferred in (False, True):
        assert import_graph.cycles(import_graph.build_graph(ROOT / "mfa_oauth", deferred=deferred)) == []


def test_the_script_finds_a_cycle(tmp_path):
    package = tmp_path / "pkg"
    (package / "sub").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "sub" / "__init__.py").write_text("")
    (package / "a.py").write_text("from .sub import b\n")
    (package / "sub" / "b.py").write_text("def f():\n    from ..a import x\n")
    assert import_graph.cycles(import_graph.build_graph(package)) == []
    assert import_graph.cycles(import_graph.build_graph(package, deferred=True)) == [["pkg.a", "pkg.sub.b"]]
    run = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "import_graph.py"), str(package), "--deferred"],
        capture_output=True,
        text=True,
    )
    assert run.returncode == 1 and "import cycle: pkg.a <-> pkg.sub.b" in run.stdout
