"""`make screenshots`: a PNG of every page of every app, in French and in English, at 1280 and 360 px
wide, into screenshots/<language>/<width>/ (or $SCREENSHOTS_DIR).

Starts the demo in a temporary instance (unless one already answers on port 8000); takes the IdP's
sign-in pages as each portal sends the person there (eComms, e-services: the identifier and password
pages; justice: the provider choice; none: the IdP's own), then signs in once through FranceConnect
(sandbox impots), adds the demo case to the justice space (its SMS code read from the dev inbox) and
visits each page, the justice case page and each app's error page included.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
OUT = Path(os.environ.get("SCREENSHOTS_DIR", REPO / "screenshots"))
IDP, ECOMMS, JUSTICE, ESERVICES = ("http://localhost:8000", "http://localhost:8001", "http://localhost:8002",
                                   "http://localhost:8003")
DEVINBOX = "http://localhost:8025"
WIDTHS = (1280, 360)
PAGES = {
    "idp": (IDP, ["/", "/registration", "/recovery", "/terms", "/account", "/account/password", "/account/email",
                  "/account/totp", "/organisations", "/organisations/inscription", "/logout", "/no-such-page"]),
    "ecomms": (ECOMMS, ["/", "/help", "/terms", "/receipts/verify", "/no-such-page"]),
    "justice": (JUSTICE, ["/", "/cases/add", "/settings", "/contact-details", "/export", "/help",
                          "/data-protection", "/support", "/support/message", "/no-such-page"]),
    "eservices": (ESERVICES, ["/", "/catalogue", "/aide", "/representant-legal", "/assistance", "/no-such-page"]),
    "devinbox": (DEVINBOX, ["/"]),
}
DEMO_CASE, DEMO_PHONE = "DEMO-ANGE-LA01", "+33612345601"
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


class Shooter:
    def __init__(self, browser, language: str):
        self.language = language
        self.contexts = {width: browser.new_context(locale="fr-FR", viewport={"width": width, "height": 900})
                         for width in WIDTHS}
        self.pages = {width: context.new_page() for width, context in self.contexts.items()}

    @property
    def main(self):
        return self.pages[WIDTHS[0]]

    def each(self, action) -> None:
        for page in self.pages.values():
            action(page)

    def shoot(self, name: str) -> None:
        """The main page as it is now, and the same URL in the other widths (same cookies: same state)."""
        for width, page in self.pages.items():
            if page is not self.main:
                page.goto(self.main.url)
            save(page, self.language, width, name)

    def close(self) -> None:
        for context in self.contexts.values():
            context.close()


def save(page, language: str, width: int, name: str) -> None:
    """A full-page PNG of the page as it is now, into screenshots/<language>/<width>/<name>.png."""
    target = OUT / language / str(width) / f"{name}.png"
    target.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(target), full_page=True)
    print(target.relative_to(OUT))


def sign_in_pages(shot: Shooter) -> None:
    """The IdP's pages as each portal sends the person there, before any sign-in; each width walks
    the flow itself (an interaction belongs to the browser that started it)."""
    def walk(page, width: int) -> None:
        def shoot(name: str) -> None:
            save(page, shot.language, width, name)

        page.goto(ECOMMS + "/login")
        shoot("idp-signin-from-ecomms")
        page.locator("main form button.button").first.click()
        shoot("idp-signin-error-from-ecomms")
        page.locator("#identifier").fill("requerant@example.org")
        page.locator("main form button.button").first.click()
        page.wait_for_url("**/password")
        shoot("idp-password-from-ecomms")
        page.locator("a[href^='/recovery']").click()
        shoot("idp-recovery-from-ecomms")  # seed 000 §5: the address already there, "Continuer"
        page.goto(ESERVICES + "/login")
        shoot("idp-signin-from-eservices")
        page.goto(JUSTICE + "/login")
        page.wait_for_url("**/providers")
        shoot("idp-providers-from-justice")
        page.goto(IDP + "/signin")
        shoot("idp-signin")

    for width, page in shot.pages.items():
        walk(page, width)


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


def sms_code(count: int) -> str:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        with urllib.request.urlopen(f"{DEVINBOX}/api/messages?to=%2B{DEMO_PHONE[1:]}&channel=sms", timeout=5) as r:  # noqa: S310
            found = json.load(r)
        if len(found) >= count:
            return re.search(r"(\d{6})", found[0]["text"]).group(1)
        time.sleep(0.2)
    raise SystemExit("no SMS code arrived")


def justice_case(shot: Shooter, sent: list[int]) -> None:
    """Add the demo case once (its SMS code from the dev inbox), then shoot its page."""
    page = shot.main
    page.goto(JUSTICE + "/")
    if not page.locator("a[href^='/cases/']:not([href='/cases/add'])").count():
        page.goto(JUSTICE + "/cases/add")
        page.locator("#number").fill(DEMO_CASE)
        page.locator("main form button[type=submit]").first.click()
        sent[0] += 1
        shot.shoot("justice-cases-add-code")
        page.locator("#code").fill(sms_code(sent[0]))
        page.locator("main form button[type=submit]").first.click()
        page.goto(JUSTICE + "/")
        shot.shoot("justice-home-with-case")
    page.locator("a[href^='/cases/']:not([href='/cases/add'])").first.click()
    shot.shoot("justice-case")


def signed_in(browser, language: str, width: int, portal: str, email: str):
    """A browser of this width and language signed in at ``portal`` with a demo account's password."""
    context = browser.new_context(locale="fr-FR", viewport={"width": width, "height": 900})
    page = context.new_page()
    for base in (portal, IDP):
        page.goto(f"{base}/lang/{language}?next=/")
    page.goto(portal + "/login")
    page.locator("#identifier").fill(email)
    page.locator("main form button.button").first.click()
    page.locator("#password").fill("Demo-Passw0rd")
    page.locator("main form button.button").first.click()
    return context, page


def ecomms_applicant(browser, language: str) -> None:
    """The applicant's pages of seed 000 (§3, §4): the list, an application's Inbox and Sent items, the
    deposit page; signed in with the demo applicant's password, each width in its own browser."""
    for width in WIDTHS:
        context, page = signed_in(browser, language, width, ECOMMS, "requerant@example.org")
        page.wait_for_url(ECOMMS + "/**")

        def shoot(name: str, page=page, width=width) -> None:
            save(page, language, width, name)

        page.goto(ECOMMS + "/")
        shoot("ecomms-applicant-home")
        page.locator(".application-list a").first.click()
        shoot("ecomms-application-inbox")
        page.locator(".tabs a").nth(1).click()
        shoot("ecomms-application-sent")
        send = page.locator("a[href$='/send']")
        if send.count():
            send.first.click()
            shoot("ecomms-application-send")
        context.close()


def ecomms_registry(browser, language: str) -> None:
    """The Court registry's pages: its list, the work queue, a new application, an application's page,
    its people and the closing confirmation (the danger zone; nothing is closed)."""
    for width in WIDTHS:
        context, page = signed_in(browser, language, width, ECOMMS, "greffe@echr.example")
        page.wait_for_url(ECOMMS + "/**")

        def shoot(name: str, page=page, width=width) -> None:
            save(page, language, width, name)

        page.goto(ECOMMS + "/")
        shoot("ecomms-registry-home")
        page.goto(ECOMMS + "/registry/queue")
        shoot("ecomms-registry-queue")
        page.goto(ECOMMS + "/registry/applications/new")
        shoot("ecomms-registry-new-application")
        page.goto(ECOMMS + "/")
        page.locator(".application-list a").first.click()
        shoot("ecomms-registry-application")
        application = page.url.split("?")[0]
        page.goto(application.replace("/applications/", "/registry/applications/") + "/people")
        shoot("ecomms-registry-people")
        page.goto(application.replace("/applications/", "/registry/applications/") + "/close")
        shoot("ecomms-registry-close")
        context.close()


def eservices_administrator(browser, language: str) -> None:
    """An administrator of two organisations (seed 002): the IdP's choice of organisation, the portal's
    home with its e-services, an e-service and its form, the administration page, and the IdP's
    "Mes organisations" and administration console."""
    for width in WIDTHS:
        context, page = signed_in(browser, language, width, ESERVICES, "claire.martin@example.org")

        def shoot(name: str, page=page, width=width) -> None:
            save(page, language, width, name)

        page.wait_for_load_state()
        if "/organisations/" in page.url:  # two organisations: which one she acts for
            shoot("idp-organisations-choose")
            page.locator("main form input[type=radio]").first.check()
            page.locator("main form button[type=submit]").first.click()
            page.wait_for_url(ESERVICES + "/**")
        page.goto(ESERVICES + "/")
        shoot("eservices-home-administrator")
        page.goto(ESERVICES + "/e-services/subventions")
        shoot("eservices-eservice")
        page.goto(IDP + "/organisations")
        shoot("idp-organisations-mine")
        page.goto(IDP + "/organisations/console")
        shoot("idp-organisations-console")
        context.close()


def main() -> None:
    from playwright.sync_api import sync_playwright

    demo = None if running() else start_demo()
    sent = [0]
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
            for language in ("fr", "en"):
                shot = Shooter(browser, language)
                for base in (IDP, ECOMMS, JUSTICE, ESERVICES):
                    shot.each(lambda page, base=base, language=language: page.goto(f"{base}/lang/{language}?next=/"))
                sign_in_pages(shot)
                shot.each(sign_in)
                for app, (base, paths) in PAGES.items():
                    for path in paths:
                        shot.main.goto(base + path)
                        shot.shoot(f"{app}-{path.strip('/').replace('/', '-') or 'home'}")
                justice_case(shot, sent)
                shot.close()
                ecomms_applicant(browser, language)
                ecomms_registry(browser, language)
                eservices_administrator(browser, language)
            browser.close()
    finally:
        if demo is not None:
            os.killpg(demo.pid, signal.SIGTERM)
            demo.wait(30)


if __name__ == "__main__":
    main()
