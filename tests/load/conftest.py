"""Shared by the load tests: print figures past pytest's capture, read a gunicorn log's problems."""

from __future__ import annotations

import json
from pathlib import Path

import pytest


@pytest.fixture
def show(capsys):
    """Print to the terminal even under capture, so the figures reach the CI log of a passing run."""

    def show(text: str) -> None:
        with capsys.disabled():
            print("\n" + text, flush=True)

    return show


def log_problems(log: Path) -> list[str]:
    """Lines of a gunicorn log at ERROR or above, or answering 5xx (JSON lines or plain text)."""
    problems = []
    for line in log.read_text(errors="replace").splitlines():
        try:
            entry = json.loads(line) if line.startswith("{") else {"message": line}
        except ValueError:
            entry = {"message": line}
        level = str(entry.get("level", "")).upper()
        message = str(entry.get("message", ""))
        if level in {"ERROR", "CRITICAL"} or '" 5' in message or "Traceback" in message:
            problems.append(line[:500])
    return problems
