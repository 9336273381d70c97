"""Issue 7: the whole demo (``scripts/demo.py``, every app under gunicorn on its real port) walked
in Chromium. One sign-in at eComms (through FranceConnect, as the justice space requires it) opens
the justice space and the e-services portal without typing anything; signing out at one portal
ends every portal's session (back-channel logout). The same journey with the keyboard only.
Then axe-core on every portal page, in French and in English."""

from __future__ import annotations

import os
import re

import pytest

from tests import servers
from tests.a11y.axe import describe, violations

pytestmark = pytest.mark.browser
BASE = servers.free_demo_base()  # the ports of this module's own demo (a developer's may run on 8000)
ECOMMS, JUSTICE, ESERVICES, IDP = (f"http://localhost:{BASE + 1}", f"http://localhost:{BASE + 2}",
                                   f"http://localhost:{BASE + 3}", f"http://localhost:{BASE}")
SANDBOX_IMPOTS = f"http://localhost:{BASE + 11}"


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    folder = tmp_path_factory.mktemp("demo")
    env = {**os.environ, "INSTANCE_PATH": str(folder / "instance"), "KEYS_DIR": str(folder / "keys"),
           "PORT_BASE": str(BASE)}
    env.pop("ARGON2_PROFILE", None)  # the demo as shipped
    with servers.demo(env) as output:
        yield output



def franceconnect_at_ecomms(page) -> None:
    """Sign in once, at eComms, through FranceConnect (sandbox impots: Angela DUBOIS)."""
    page.goto(ECOMMS + "/")
    page.get_by_role("link", name="Se connecter avec mon compte ECHR Services").click()
    page.get_by_role("link", name="Se connecter avec FranceConnect").click()
    page.get_by_role("button", name="Se connecter avec impots").click()
    page.locator("input[name=login]").fill("1234567890123")
    page.locator("input[name=password]").fill("Sandbox-Impots-1")
    page.locator("button[value=login]").click()
    page.wait_for_url(ECOMMS + "/")


def signed_in(page, url: str) -> bool:
    return page.locator("form[action$='/logout']").count() > 0


def test_one_sign_in_across_the_portals_and_one_sign_out_everywhere(demo, chromium):
    page = chromium.new_context(locale="fr-FR").new_page()
    franceconnect_at_ecomms(page)
    assert signed_in(page, ECOMMS)
    typed = []
    page.on("request", lambda r: typed.append(r.url) if r.method == "POST" and "/password" in r.url else None)

    page.get_by_role("button", name="Mode accessibilité").click()  # switched on at eComms…
    page.goto(JUSTICE + "/")
    page.get_by_role("link", name="Accéder à votre espace personnel").first.click()
    page.wait_for_selector("form[action$='/logout']")
    assert signed_in(page, JUSTICE) and "Bienvenue dans votre espace personnel" in page.content()
    assert "a11y" in (page.locator("html").get_attribute("class") or ""), "…and still on at the justice space"

    page.goto(ESERVICES + "/")
    page.get_by_role("link", name="Connexion").first.click()
    page.wait_for_selector("form[action$='/logout']")
    assert signed_in(page, ESERVICES)
    assert typed == [], "no password typed after the first sign-in"

    page.locator("form[action$='/logout'] button").first.click()  # sign out at e-services
    page.wait_for_selector("form[action$='/logout']", state="detached")
    for portal in (ECOMMS, JUSTICE, ESERVICES):
        page.goto(portal + "/")
        assert not signed_in(page, portal), f"{portal} still signed in after single logout"
    page.goto(ECOMMS + "/")
    page.get_by_role("link", name="Se connecter avec mon compte ECHR Services").click()
    assert "/interaction/" in page.url, "the IdP asks to sign in again"


def tab_to(page, pattern: str, limit: int = 60) -> None:
    """Press Tab until the focused element's accessible text matches; fail if never reached."""
    regex = re.compile(pattern)
    for _ in range(limit):
        page.keyboard.press("Tab")
        text = page.evaluate("() => { const e = document.activeElement; return (e.innerText || e.value || "
                             "e.getAttribute('aria-label') || e.name || '').trim(); }")
        if regex.search(text):
            return
    raise AssertionError(f"{pattern!r} is not reachable with the keyboard on {page.url}")


def test_the_same_journey_with_the_keyboard_only(demo, chromium):
    page = chromium.new_context(locale="fr-FR").new_page()
    page.goto(ECOMMS + "/")
    tab_to(page, "^Se connecter avec mon compte ECHR Services$")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(".*/interaction/.*"))
    tab_to(page, "^Se connecter avec FranceConnect$")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(".*/providers"))
    tab_to(page, "impots")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(re.escape(SANDBOX_IMPOTS) + "/.*"))
    tab_to(page, "^login$")  # the sandbox form's identifier field
    page.keyboard.type("1234567890123")
    page.keyboard.press("Tab")
    page.keyboard.type("Sandbox-Impots-1")
    page.keyboard.press("Enter")
    page.wait_for_url(ECOMMS + "/")
    page.goto(JUSTICE + "/")
    tab_to(page, "^Accéder à votre espace personnel$")
    page.keyboard.press("Enter")
    page.wait_for_selector("form[action$='/logout']")  # back on the space, signed in without typing
    assert signed_in(page, JUSTICE)
    page.goto(ESERVICES + "/")
    tab_to(page, "^Connexion$")
    page.keyboard.press("Enter")
    page.wait_for_selector("form[action$='/logout']")
    tab_to(page, "^Se déconnecter$")
    page.keyboard.press("Enter")
    page.wait_for_selector("form[action$='/logout']", state="detached")
    for portal in (ECOMMS, JUSTICE, ESERVICES):
        page.goto(portal + "/")
        assert not signed_in(page, portal)


PORTAL_PAGES = {
    ECOMMS: ["/", "/help", "/terms", "/receipts/verify"],
    JUSTICE: ["/", "/cases/add", "/settings", "/contact-details", "/export", "/help", "/data-protection", "/support"],
    ESERVICES: ["/", "/catalogue", "/aide", "/representant-legal"],
}


@pytest.mark.parametrize("language", ["fr", "en"])
def test_axe_finds_nothing_on_any_portal_page(demo, chromium, language):
    context = chromium.new_context(locale="fr-FR", bypass_csp=True)
    page = context.new_page()
    found: dict[str, list] = {}
    for portal, paths in PORTAL_PAGES.items():  # signed out first, then signed in
        page.goto(f"{portal}/lang/{language}?next=/")
        for path in paths[:1] + [p for p in paths if p in ("/help", "/terms", "/aide")]:
            page.goto(portal + path)
            if items := violations(page):
                found[f"{language} signed-out {portal}{path}"] = items
    franceconnect_at_ecomms(page) if language == "fr" else _sign_in_english(page)
    for portal, paths in PORTAL_PAGES.items():
        if portal != ECOMMS:
            page.goto(portal + "/login")
            page.wait_for_selector("form[action$='/logout']")
        page.goto(f"{portal}/lang/{language}?next=/")
        for path in paths:
            page.goto(portal + path)
            assert page.locator("html").get_attribute("lang") == language
            if items := violations(page):
                found[f"{language} {portal}{path}"] = items
    context.close()
    assert not found, "\n" + describe(found)


def _sign_in_english(page) -> None:
    page.goto(ECOMMS + "/lang/en?next=/")
    page.goto(IDP + "/lang/en?next=/")
    page.goto(ECOMMS + "/login")
    page.get_by_role("link", name="Sign in with FranceConnect").click()
    page.get_by_role("button", name="Sign in with impots").click()
    page.locator("input[name=login]").fill("1234567890123")
    page.locator("input[name=password]").fill("Sandbox-Impots-1")
    page.locator("button[value=login]").click()
    page.wait_for_url(ECOMMS + "/")
