"""DOT's own test suite, run once with stock DOT and once with mfa_oauth swapped in; compared.

DOT's PyPI sdist ships its test modules (``tests/test_*.py``) but not the harness they run in;
``harness/`` is that harness, written for this repository (docs/dot-suite.md). This script

1. downloads the sdist of the django-oauth-toolkit version pinned in requirements.txt (pip's own
   client; kept in a cache directory, so CI downloads it once),
2. builds a directory whose package ``tests`` is the harness plus DOT's test modules,
3. runs it twice, ``DOT_SUITE_FLAVOUR=stock`` and ``=mfa_oauth`` (our validator, server class and
   authorization view, set by settings and URLs only: harness/flavour.py, settings.py, urls.py),
4. compares the two junit reports: every test that passes stock must pass with mfa_oauth, except
   the ones ``deviations.txt`` lists with a reason. Anything else fails (exit status 1), and so
   does a listed deviation that no longer deviates (the list stays exact).

    python tests/dot_suite/run.py [--keep DIR] [--serial] [-- pytest args, e.g. tests/test_password.py or -k login]
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
import xml.etree.ElementTree as ET
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
HARNESS = HERE / "harness"
DEVIATIONS = HERE / "deviations.txt"
FLAVOURS = ("stock", "mfa_oauth")


def pinned_dot_version() -> str:
    for line in (REPO / "requirements.txt").read_text().splitlines():
        match = re.match(r"\s*django-oauth-toolkit==([\w.]+)", line, re.IGNORECASE)
        if match:
            return match.group(1)
    raise SystemExit("requirements.txt pins no django-oauth-toolkit version")


def sdist(version: str, cache: Path) -> Path:
    cache.mkdir(parents=True, exist_ok=True)
    found = sorted(cache.glob(f"django_oauth_toolkit-{version}.tar.gz"))
    if not found:
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "-q", "--no-binary", ":all:", "--no-deps",
             f"django-oauth-toolkit=={version}", "-d", str(cache)],
            check=True,
        )  # fmt: skip
        found = sorted(cache.glob(f"django_oauth_toolkit-{version}.tar.gz"))
    if not found:
        raise SystemExit(f"pip downloaded no sdist of django-oauth-toolkit {version}")
    return found[0]


def build_tree(archive: Path, root: Path) -> int:
    """``root/tests``: the harness and DOT's test modules; ``root/pytest.ini``. Returns the number of modules."""
    package = root / "tests"
    package.mkdir(parents=True)
    for source in HARNESS.iterdir():
        if source.suffix == ".py":
            shutil.copy(source, package / source.name)
    shutil.copy(HARNESS / "pytest.ini", root / "pytest.ini")
    count = 0
    with tarfile.open(archive) as tar:
        for member in tar.getmembers():
            parts = Path(member.name).parts
            # <sdist root>/tests/test_*.py only: DOT's modules, never a harness file of DOT's.
            if len(parts) == 3 and parts[1] == "tests" and re.fullmatch(r"test_\w+\.py", parts[2]) and member.isfile():
                (package / parts[2]).write_bytes(tar.extractfile(member).read())
                count += 1
    return count


def run_flavour(root: Path, flavour: str, pytest_args: list[str]) -> subprocess.Popen:
    env = {
        **os.environ,
        "DOT_SUITE_FLAVOUR": flavour,
        # The built tree first (its ``tests`` is the harness), then this repository (mfa_oauth).
        "PYTHONPATH": os.pathsep.join([str(root), str(REPO)]),
    }
    env.pop("DJANGO_SETTINGS_MODULE", None)
    log = open(root / f"{flavour}.log", "w")
    # The whole package unless the arguments name test modules themselves (tests/test_x.py::...).
    targets = [] if any(arg.startswith("tests/") for arg in pytest_args) else ["tests"]
    return subprocess.Popen(
        [sys.executable, "-m", "pytest", "-q", "-c", str(root / "pytest.ini"), "--rootdir", str(root),
         f"--junitxml={root / f'{flavour}.xml'}", *targets, *pytest_args],
        cwd=root, env=env, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip


def outcomes(report: Path) -> dict[str, str]:
    """test id (pytest's node id) -> passed / failed / error / skipped."""
    results: dict[str, str] = {}
    for case in ET.parse(report).getroot().iter("testcase"):
        dotted = case.get("classname", "").split(".")  # tests.test_module[.Class]
        node = f"{'/'.join(dotted[:2])}.py::" + "::".join([*dotted[2:], case.get("name", "")])
        outcome = "passed"
        for child in case:
            if child.tag in ("failure", "error", "skipped"):
                outcome = {"failure": "failed"}.get(child.tag, child.tag)
                if child.tag == "error" and results.get(node) == "passed":
                    outcome = "error"  # an error in teardown of a test that passed
        results[node] = outcome
    return results


def deviations() -> dict[str, str]:
    listed: dict[str, str] = {}
    for number, line in enumerate(DEVIATIONS.read_text().splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        test_id, sep, reason = line.partition("  ")
        if not sep or not reason.strip():
            raise SystemExit(f"{DEVIATIONS.name}:{number}: expected '<test id>  <reason>'")
        listed[test_id.strip()] = reason.strip()
    return listed


def counts(results: dict[str, str]) -> str:
    tally = {k: 0 for k in ("passed", "failed", "skipped", "error")}
    for outcome in results.values():
        tally[outcome] += 1
    return ", ".join(f"{v} {k}" for k, v in tally.items())


def compare(stock: dict[str, str], ours: dict[str, str], listed: dict[str, str], partial: bool = False) -> list[str]:
    """The unexplained differences. ``partial``: pytest arguments chose a subset of the tests, so a
    listed test that did not run says nothing."""
    problems = []
    for test_id, outcome in sorted(stock.items()):
        if outcome != "passed":
            continue
        mine = ours.get(test_id, "not run")
        if mine != "passed" and test_id not in listed:
            problems.append(f"REGRESSION {test_id}: passes with stock DOT, {mine} with mfa_oauth")
    for test_id in sorted(listed):
        if partial and test_id not in stock:
            continue
        if stock.get(test_id) != "passed":
            problems.append(f"STALE {test_id}: listed in {DEVIATIONS.name} but {stock.get(test_id, 'not run')} stock")
        elif ours.get(test_id) == "passed":
            problems.append(f"STALE {test_id}: listed in {DEVIATIONS.name} but passes with mfa_oauth")
    return problems


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--keep", type=Path, help="build in this (new) directory and keep it")
    parser.add_argument("--serial", action="store_true", help="one run after the other (default: both at once)")
    parser.add_argument(
        "--cache", type=Path, default=Path(os.environ.get("DOT_SUITE_CACHE", Path.home() / ".cache" / "dot-suite"))
    )
    parser.add_argument("pytest_args", nargs="*")
    args = parser.parse_args()

    version = pinned_dot_version()
    archive = sdist(version, args.cache)
    root = args.keep.resolve() if args.keep else Path(tempfile.mkdtemp(prefix="dot-suite-"))
    try:
        modules = build_tree(archive, root)
        print(f"DOT {version}: {modules} test modules from {archive.name}, harness tests/dot_suite/harness")
        started = time.monotonic()
        results = {}
        if args.serial:
            status = {flavour: run_flavour(root, flavour, args.pytest_args).wait() for flavour in FLAVOURS}
        else:
            processes = {flavour: run_flavour(root, flavour, args.pytest_args) for flavour in FLAVOURS}
            status = {flavour: process.wait() for flavour, process in processes.items()}
        for flavour in FLAVOURS:
            report = root / f"{flavour}.xml"
            # pytest: 0 all passed, 1 some failed; anything else (interrupted, a collection error,
            # an internal error) means the run did not happen as a whole.
            if status[flavour] not in (0, 1) or not report.exists():
                print((root / f"{flavour}.log").read_text()[-4000:])
                print(f"{flavour}: pytest exited with status {status[flavour]}; logs in {root}")
                args.keep = root
                return 1
            results[flavour] = outcomes(report)
        listed = deviations()
        print(f"stock DOT:          {counts(results['stock'])}")
        print(f"mfa_oauth swapped:  {counts(results['mfa_oauth'])}")
        print(f"intended deviations listed: {len(listed)} ({DEVIATIONS.relative_to(REPO)})")
        print(f"both runs: {time.monotonic() - started:.0f}s")
        problems = compare(results["stock"], results["mfa_oauth"], listed, partial=bool(args.pytest_args))
        for problem in problems:
            print(problem)
        if problems:
            print(f"{len(problems)} unexplained difference(s); logs and reports in {root}")
            args.keep = root  # keep them to look at
            return 1
        print("every test that passes with stock DOT passes with mfa_oauth, or is a listed deviation")
        return 0
    finally:
        if not args.keep:
            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
