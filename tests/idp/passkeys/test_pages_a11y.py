"""Every passkey, recovery-code and account-activity page, in French and in English, at 360 px:
axe-core clean, no horizontal overflow, no character a font may lack, and every visible text in
the page's language (an untranslated French sentence on an English page fails)."""

from __future__ import annotations

import secrets

import pyotp
import pytest

from tests.a11y.axe import describe, violations
from tests.a11y.checks import page_problems
from tests.idp.helpers import mailbox_code, make_client, make_user
from tests.idp.passkeys.conftest import GOOD, PORTAL, Authenticator, authorize_in_browser, without_autofill

pytestmark = pytest.mark.browser
FRENCH_ONLY = ("clé d'accès", "Clé d'accès", "codes de secours", "Journal de sécurité", "Fermer toutes",
               "c'est bien vous", "Code reçu", "nouveau code")


@pytest.mark.parametrize("language", ["fr", "en"])
def test_passkey_and_account_pages_are_clean_in_both_languages(chromium, idp, language):
    email = f"a11y-pk-{secrets.token_hex(4)}@example.org"
    make_user(idp.app, email, GOOD)
    client = make_client(idp.app, redirect_uris=[f"{PORTAL}/callback"], name="Annuaire", first_party=False,
                         scope="openid email")
    context = chromium.new_context(bypass_csp=True, locale="fr-FR", viewport={"width": 360, "height": 800})
    page = context.new_page()
    without_autofill(page)
    Authenticator(page)
    found: dict[str, list[dict]] = {}

    def sweep(label: str) -> None:
        page.wait_for_load_state()
        assert page.locator("html").get_attribute("lang") == language, label
        items = violations(page) + [{"id": "page", "impact": "layout", "help": problem, "targets": []}
                                    for problem in page_problems(page)]
        if language == "en":
            text = page.locator("main").inner_text()
            items += [{"id": "language", "impact": "text", "help": f"French left: {words!r}", "targets": []}
                      for words in FRENCH_ONLY if words in text]
        if items:
            found[f"{language} {label}"] = items

    page.goto(f"{idp.url}/lang/{language}?next=/")
    page.goto(f"{idp.url}/signin?next=/account/passkeys")
    sweep("identifier with the passkey button")
    page.locator("#identifier").fill(email)
    page.locator("main form button.button").first.click()
    page.locator("#password").fill(GOOD)
    page.locator("main form button.button").first.click()
    page.wait_for_url("**/account/passkeys")
    sweep("passkeys, none yet")
    page.locator("main a.button[href='/account/confirm-address/passkey']").click()
    sweep("confirm it is you")
    page.locator("main form button.button").first.click()  # no code: the error
    sweep("confirm it is you, code missing")
    email_code = mailbox_code(idp.app, email)
    page.locator("#code").fill(email_code)
    page.locator("main form button.button").first.click()
    page.wait_for_url("**/account/passkeys")
    page.locator("main form[data-passkey] button").click()  # no name: the error
    sweep("passkeys, name missing")
    page.locator("#name").fill("Ordinateur portable du cabinet d'avocats")
    page.locator("main form[data-passkey] button").click()
    page.locator(".recovery-codes").wait_for()
    sweep("recovery codes")
    with context.expect_page() as printed:
        page.locator("form[action='/account/recovery-codes/print'] button").click()
    sheet, main_page = printed.value, page
    page = sheet
    sweep("recovery codes print page")
    sheet.close()
    page = main_page
    page.locator("main a.button").click()
    sweep("passkeys, one")
    page.locator("table a[href$='/rename']").first.click()
    sweep("passkey rename")
    page.locator("#name").fill("")
    page.locator("main form button.button").click()  # no name: the error
    sweep("passkey rename, name missing")
    page.locator("#name").fill("Ordinateur du cabinet")
    page.locator("main form button.button").click()
    page.wait_for_url("**/account/passkeys?done=renamed")
    sweep("passkeys, renamed")
    page.locator("table a[href$='/remove']").first.click()
    sweep("passkey removal")
    page.goto(idp.url + "/account/totp")  # an authenticator app beside the passkey: its danger zone
    secret = page.locator("code.secret").inner_text()
    page.locator("#code").fill(pyotp.TOTP(secret).now())
    page.locator("main form button.button").first.click()
    page.locator(".recovery-codes").wait_for()
    page.goto(idp.url + "/account")
    sweep("/account with the authenticator app and its danger zone")
    page.locator("#disable_password").fill("Pas-le-bon-1")
    page.locator(".danger-zone button").click()
    sweep("authenticator app not turned off, wrong password")
    for path in ("/help/lost-factors", "/account", "/account/activity", "/account/sessions/others"):
        page.goto(idp.url + path)
        sweep(path)
    page.goto(idp.url + "/account")
    page.locator("section[aria-labelledby=sessions-title] tbody a").first.click()
    sweep("end one session")
    page.context.clear_cookies(name="idp_sid")

    def with_passkey_then_consent(page):
        page.locator("#identifier").fill(email)
        page.locator("main form button.button").first.click()
        page.locator("#password").fill(GOOD)
        page.locator("main form button.button").first.click()
        page.locator("#passkey button").wait_for()
        sweep("second factor with a passkey")
        page.locator("#passkey button").click()
        page.locator("button[value=allow]").click()

    authorize_in_browser(page, idp, client, with_passkey_then_consent)
    page.goto(idp.url + "/account")
    page.locator("section[aria-labelledby=apps-title] tbody a").first.click()
    sweep("withdraw a service")
    context.close()
    assert not found, "\n" + describe(found)
