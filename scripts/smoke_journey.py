#!/usr/bin/env python3
"""Walk the newcomer's journey against a running IdP in headless Chromium, as a person would.

    .venv/bin/python scripts/smoke_journey.py https://localhost:8500 [TOTP-secret-base32]

demo client -> login (alice) -> TOTP -> consent -> claims page; screenshots in artifacts/smoke/.
Accepts the local CA of the production-like stack (browsers warn about it; so would a person).
"""

from __future__ import annotations

import sys
from pathlib import Path

import pyotp
from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parent.parent
# The same flags as the test suite's (tests/conftest.py), without importing Django here.
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run"]
DEMO_SECRET = "AOJYG43DKNBTGIYTAOJYG43DKNBTGIYT"  # seed_demo's published demo secret


def main(base: str, secret: str) -> None:
    shots = ROOT / "artifacts" / "smoke"
    shots.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        page = browser.new_context(ignore_https_errors=True).new_page()
        response = page.goto(f"{base}/demo/")
        print("demo page:", response.status, "HSTS:", response.headers.get("strict-transport-security"))
        page.click("#demo-start")
        page.fill("#id_username", "alice")
        page.fill("#id_password", "alice-demo-password")
        page.screenshot(path=shots / "1-login.png")
        page.click("#login-submit")
        page.wait_for_selector("#mfa-verify-form")
        page.fill("#id_token", pyotp.TOTP(secret).now())
        page.screenshot(path=shots / "2-totp.png")
        page.click("#mfa-verify")
        page.wait_for_selector("#authorizationForm")
        page.screenshot(path=shots / "3-consent.png")
        page.click("#authorizationForm input[name=allow]")
        page.wait_for_selector("#demo-claims, #demo-error")
        page.screenshot(path=shots / "4-claims.png", full_page=True)
        if page.locator("#demo-error").count():
            raise SystemExit(f"demo client error: {page.text_content('#demo-error')}")
        cookies = {c["name"]: (c["secure"], c["httpOnly"]) for c in page.context.cookies()}
        print("cookies (secure, httpOnly):", cookies)
        print("acr:", page.text_content("#claim-acr"), "| amr:", page.text_content("#claim-amr"))
        browser.close()
    print("screenshots:", shots)


if __name__ == "__main__":
    main(sys.argv[1].rstrip("/"), sys.argv[2] if len(sys.argv) > 2 else DEMO_SECRET)
