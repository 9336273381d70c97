"""axe-core on every page of the IdP, in French and in English (issue 7), at 360 px, where no page may
overflow horizontally nor show a character a font may lack (issue 20, tests/a11y/checks.py)."""

from __future__ import annotations

import secrets

import pytest

from tests.a11y.axe import describe, violations
from tests.a11y.checks import page_problems
from tests.idp.helpers import make_user, start_idp

pytestmark = pytest.mark.browser
PASSWORD = "Bonne-Passe-2026"
PUBLIC_PAGES = ["/", "/registration", "/recovery", "/activate", "/terms", "/logged-out", "/organisations/inscription",
                "/recovery/not-a-real-token", "/no-such-page"]
ACCOUNT_PAGES = ["/account", "/account/password", "/account/email", "/account/totp", "/organisations"]


@pytest.fixture(scope="module")
def idp(tmp_path_factory):
    server = start_idp(f"sqlite:///{tmp_path_factory.mktemp('a11y')}/idp.db")
    yield server
    server.stop()



@pytest.mark.parametrize("language", ["fr", "en"])
def test_no_axe_violation_on_any_idp_page(idp, chromium, language):
    email = f"a11y-{secrets.token_hex(4)}@example.org"
    make_user(idp.app, email, PASSWORD)
    context = chromium.new_context(bypass_csp=True, locale="fr-FR", viewport={"width": 360, "height": 800})
    page = context.new_page()
    page.goto(f"{idp.url}/lang/{language}?next=/")
    found: dict[str, list[dict]] = {}

    def sweep(label: str) -> None:
        assert page.locator("html").get_attribute("lang") == language, label
        items = violations(page) + [{"id": "page", "impact": "layout", "help": problem, "targets": []}
                                    for problem in page_problems(page)]
        if items:
            found[f"{language} {label}"] = items

    for path in PUBLIC_PAGES:
        page.goto(idp.url + path)
        sweep(path)
    # the sign-in pages, including an error state
    page.goto(f"{idp.url}/signin?next=/account")
    sweep("identifier")
    page.locator("main form button.button").first.click()  # empty identifier: the error summary
    sweep("identifier with error")
    page.locator("#identifier").fill(email)
    page.locator("main form button.button").first.click()
    sweep("password")
    page.locator("#password").fill("wrong-password")
    page.locator("main form button.button").first.click()
    sweep("password with error")
    page.locator("#password").fill(PASSWORD)
    page.locator("main form button.button").first.click()
    page.wait_for_url("**/account")
    for path in ACCOUNT_PAGES:
        page.goto(idp.url + path)
        sweep(path)
    page.goto(idp.url + "/registration")
    page.locator("main form button.button").first.click()
    sweep("registration with errors")
    context.close()
    assert not found, "\n" + describe(found)
