"""`make screenshots`: a PNG of every page of every app, in French and in English, into screenshots/.

Starts the demo in a temporary instance (unless one already answers on port 8000), signs in once
through FranceConnect (sandbox impots) and through the IdP's own form, and visits each page.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
OUT = REPO / "screenshots"
IDP, ECOMMS, JUSTICE, ESERVICES = ("http://localhost:8000", "http://localhost:8001", "http://localhost:8002",
                                   "http://localhost:8003")
PAGES = {
    "idp": (IDP, ["/", "/registration", "/recovery", "/terms", "/account", "/account/password", "/account/email",
                  "/account/totp", "/organisations", "/organisations/inscription"]),
    "ecomms": (ECOMMS, ["/", "/help", "/terms", "/receipts/verify"]),
    "justice": (JUSTICE, ["/", "/cases/add", "/settings", "/contact-details", "/export", "/help",
                          "/data-protection", "/support"]),
    "eservices": (ESERVICES, ["/", "/catalogue", "/aide", "/representant-legal", "/assistance"]),
    "devinbox": ("http://localhost:8025", ["/"]),
}
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run"]


def running() -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", 8000)) == 0


def start_demo() -> subprocess.Popen:
    folder = Path(tempfile.mkdtemp(prefix="screenshots-"))
    env = {**os.environ, "INSTANCE_PATH": str(folder / "instance"), "KEYS_DIR": str(folder / "keys")}
    process = subprocess.Popen([sys.executable, "scripts/demo.py"], cwd=REPO, env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True, start_new_session=True)
    for line in process.stdout:
        if "Press Ctrl-C to stop everything" in line:
            return process
    raise SystemExit("the demo did not start")


def sign_in(page) -> None:
    page.goto(ECOMMS + "/login")
    page.locator("a[href$='/providers']").click()
    page.locator("form[action$='/impots/start'] button").click()
    page.locator("input[name=login]").fill("1234567890123")
    page.locator("input[name=password]").fill("Sandbox-Impots-1")
    page.locator("button[value=login]").click()
    page.wait_for_url(ECOMMS + "/")
    for portal in (JUSTICE, ESERVICES):
        page.goto(portal + "/login")
        page.wait_for_selector("form[action$='/logout']")


def main() -> None:
    from playwright.sync_api import sync_playwright

    demo = None if running() else start_demo()
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
            for language in ("fr", "en"):
                page = browser.new_context(locale="fr-FR", viewport={"width": 1280, "height": 900}).new_page()
                for base in (IDP, ECOMMS, JUSTICE, ESERVICES):
                    page.goto(f"{base}/lang/{language}?next=/")
                sign_in(page)
                for app, (base, paths) in PAGES.items():
                    for path in paths:
                        page.goto(base + path)
                        name = path.strip("/").replace("/", "-") or "home"
                        target = OUT / language / f"{app}-{name}.png"
                        target.parent.mkdir(parents=True, exist_ok=True)
                        page.screenshot(path=str(target), full_page=True)
                        print(target.relative_to(REPO))
                page.context.close()
            browser.close()
    finally:
        if demo is not None:
            os.killpg(demo.pid, signal.SIGTERM)
            demo.wait(30)


if __name__ == "__main__":
    main()
