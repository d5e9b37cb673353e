"""The README's "Using the app in your project", word for word, on a new ``django-admin startproject``.

Built as a new user would: the wheel from a copy of the tree, a fresh venv from this interpreter's
Python (so the Django 6 leg checks Django 6: the venv gets the Django version running this test),
``pip install`` exactly as the README's install block says (the wheel in place of the package name),
``startproject``, the README's key commands, its settings and URLconf blocks appended literally,
``check``, ``migrate``, a user with a TOTP device and a registered client, ``runserver``, then an
independent client (authlib) walks login → TOTP → consent → code → token with PKCE and verifies the
id_token's signature, ``acr``, ``amr`` and ``auth_time``. If the README drifts, this fails.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import django
import pytest
import requests

from .adoption_client import REDIRECT_URI, sign_in_and_get_tokens

ROOT = Path(__file__).resolve().parents[2]
BLOCK = re.compile(r"<!-- adoption:(\w+) -->\n```\w*\n(.*?)```", re.S)
PASSWORD = "correct horse battery staple"

SETUP = """
import json, secrets
from django.contrib.auth import get_user_model
from django_otp.plugins.otp_totp.models import TOTPDevice
from oauth2_provider.models import get_application_model
user = get_user_model().objects.create_user("alice", password=%(password)r)
key = secrets.token_hex(20)
TOTPDevice.objects.create(user=user, name="phone", key=key, confirmed=True)
secret = secrets.token_urlsafe(48)
get_application_model().objects.create(
    name="Example client", client_id="example-client", client_secret=secret, client_type="confidential",
    authorization_grant_type="authorization-code", redirect_uris=%(redirect)r, algorithm="RS256",
)
print("SETUP " + json.dumps({"key": key, "secret": secret}))
"""


def readme_blocks() -> dict[str, str]:
    blocks = dict(BLOCK.findall((ROOT / "README.md").read_text()))
    assert set(blocks) == {"install", "keys", "settings", "urls"}, sorted(blocks)
    return blocks


def _run(args, *, cwd: Path, env: dict, timeout: int = 300, shell: bool = False) -> str:
    result = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, shell=shell,
                            executable="/bin/bash" if shell else None)  # fmt: skip
    assert result.returncode == 0, f"{args!r} failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    return result.stdout + result.stderr


@pytest.fixture(scope="module")
def fresh_venv(tmp_path_factory) -> tuple[Path, dict]:
    """The wheel installed into a new venv by the README's install line; one per test run."""
    base = tmp_path_factory.mktemp("adoption")
    source = base / "source"
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    shutil.copytree(ROOT / "mfa_oauth", source / "mfa_oauth", ignore=shutil.ignore_patterns("__pycache__"))
    dist = base / "dist"
    _run([sys.executable, "-m", "pip", "wheel", str(source), "--no-deps", "-q", "-w", str(dist)], cwd=base,
         env=dict(os.environ), timeout=600)  # fmt: skip
    (wheel,) = dist.glob("mfa_oauth-*.whl")
    venv = base / "venv"
    _run([sys.executable, "-m", "venv", str(venv)], cwd=base, env=dict(os.environ))
    constraints = base / "constraints.txt"
    constraints.write_text(f"Django=={django.get_version()}\n")  # this leg's Django (5.2 LTS or 6.x)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "VIRTUAL_ENV", "PYTHON"))}
    env |= {"PATH": f"{venv / 'bin'}:{env['PATH']}", "VIRTUAL_ENV": str(venv), "PIP_CONSTRAINT": str(constraints)}
    env.pop("DATABASE_URL", None)
    install = readme_blocks()["install"]
    assert re.search(r'^pip install "mfa_oauth(\[[\w,]*\])?"', install, re.M), install
    _run(install.replace('"mfa_oauth', f'"{wheel}'), cwd=base, env=env, timeout=900, shell=True)
    versions = _run(["python", "-c", "import django, mfa_oauth, sys; print(django.get_version(), mfa_oauth.__file__)"],
                    cwd=base, env=env)  # fmt: skip
    assert versions.split()[0] == django.get_version() and str(venv) in versions  # the wheel, not this checkout
    return base, env


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _wait_for(url: str, server: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert server.poll() is None, server.stdout.read() if server.stdout else "runserver exited"
        try:
            requests.get(url, timeout=2)
            return
        except requests.ConnectionError:
            time.sleep(0.2)
    raise AssertionError(f"runserver did not answer at {url}")


def test_the_readme_quick_start_works_word_for_word(fresh_venv):
    base, env = fresh_venv
    project = base / "project"
    project.mkdir()
    blocks = readme_blocks()
    _run(["django-admin", "startproject", "mysite", "."], cwd=project, env=env)
    _run(blocks["keys"], cwd=project, env=env, shell=True)
    with (project / "mysite" / "settings.py").open("a") as settings:
        settings.write("\n" + blocks["settings"])
    with (project / "mysite" / "urls.py").open("a") as urls:
        urls.write("\n" + blocks["urls"])

    assert "System check identified no issues" in _run(["python", "manage.py", "check"], cwd=project, env=env)
    _run(["python", "manage.py", "migrate", "-v", "0"], cwd=project, env=env)
    _run(["python", "manage.py", "makemigrations", "--check", "--dry-run"], cwd=project, env=env)
    out = _run(["python", "manage.py", "shell", "-c", SETUP % {"password": PASSWORD, "redirect": REDIRECT_URI}],
               cwd=project, env=env)  # fmt: skip
    credentials = json.loads(out.split("SETUP ", 1)[1].splitlines()[0])

    port = _free_port()
    server = subprocess.Popen(
        ["python", "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"],
        cwd=project, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    try:
        base_url = f"http://127.0.0.1:{port}"
        _wait_for(f"{base_url}/o/.well-known/openid-configuration", server)
        result = sign_in_and_get_tokens(
            base_url, client_id="example-client", client_secret=credentials["secret"], username="alice",
            password=PASSWORD, totp_key=credentials["key"],
        )  # fmt: skip
        # The optional apps the quick start leaves out are absent, not half there (docs/adoption.md).
        discovery = requests.get(f"{base_url}/o/.well-known/openid-configuration", timeout=10).json()
        device = requests.post(f"{base_url}/o/token/", timeout=10, data={
            "grant_type": "urn:ietf:params:oauth:grant-type:device_code", "device_code": "x",
            "client_id": "example-client",
        })  # fmt: skip
        absent = {p: requests.get(base_url + p, timeout=10).status_code for p in ("/o/device/", "/mfa/sms/add/")}
    finally:
        server.terminate()
        server.wait(15)
    claims = result["claims"]
    assert claims["acr"] == "urn:mfa_oauth:acr:mfa"
    assert {"pwd", "otp"} <= set(claims["amr"])
    assert abs(claims["auth_time"] - time.time()) < 120
    assert result["iss_param"] == result["issuer"] == f"{base_url}/o"  # RFC 9207, as the README promises
    assert "device_authorization_endpoint" not in discovery and discovery["response_types_supported"] == ["code"]
    assert (device.status_code, device.json()["error"]) == (400, "unsupported_grant_type")
    assert absent == {"/o/device/": 404, "/mfa/sms/add/": 404}
