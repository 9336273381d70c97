"""The provider choice in Chromium: accessible buttons, FR/EN, the sandbox's marking, back to the portal."""

from __future__ import annotations

import os

import pytest

from .helpers import REDIRECT, authorize_url, query

pytestmark = pytest.mark.browser


@pytest.fixture
def page(chromium):
    context = chromium.new_context()
    # the portal itself is not running here: answer its callback with a blank page
    context.route("http://justice.example/**", lambda route: route.fulfill(status=200, body="portal"))
    yield context.new_page()
    context.close()


@pytest.mark.parametrize("live_idp", ["embedded"], indirect=True)
def test_choose_a_provider_and_sign_in_in_chromium(fed, page):
    url, params, _verifier = authorize_url(fed)
    page.goto(url)
    assert page.locator("html").get_attribute("lang") == "fr"
    assert page.get_by_role("heading", level=1).inner_text() == "Choisissez un fournisseur d'identité"
    assert page.get_by_role("button", name="Se connecter avec impots").is_visible()
    assert page.get_by_text("vous devez vous rapprocher de l'organisme choisi").is_visible()
    page.get_by_role("link", name="English").click()
    assert page.get_by_role("heading", level=1).inner_text() == "Choose an identity provider"
    if os.environ.get("SCREENSHOTS"):
        page.screenshot(path=os.path.join(os.environ["SCREENSHOTS"], "federation-providers.png"), full_page=True)
    page.get_by_role("button", name="Sign in with ameli").click()
    assert page.get_by_text("Sandbox", exact=True).first.is_visible()  # the sandbox says what it is
    if os.environ.get("SCREENSHOTS"):
        page.screenshot(path=os.path.join(os.environ["SCREENSHOTS"], "federation-sandbox.png"), full_page=True)
    page.get_by_label("Social security number").fill("2620875107001")
    page.get_by_label("Password").fill("Sandbox-Ameli-1")
    page.get_by_role("button", name="Sign in", exact=True).click()
    page.wait_for_url(REDIRECT + "?**")
    back = query(page.url)
    assert back["state"] == params["state"] and back["code"]
