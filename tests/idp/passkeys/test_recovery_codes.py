"""Recovery codes of an account whose factor is a passkey: shown once with the first passkey,
downloaded as a text file and printed; one signs in when the passkey is lost, once, and its use is
emailed to the person in their language."""

from __future__ import annotations

import re
import secrets

import pytest

from tests.idp.helpers import make_user, prove_mailbox_in_browser
from tests.idp.passkeys.conftest import GOOD, Authenticator, sign_in_with_password, sign_out, without_autofill

pytestmark = pytest.mark.browser


def test_recovery_codes_downloaded_printed_and_each_use_emailed(page, idp, devinbox):
    email = f"pk-rc-{secrets.token_hex(4)}@example.org"
    make_user(idp.app, email, GOOD, locale="en")
    without_autofill(page)
    authenticator = Authenticator(page)
    page.goto(f"{idp.url}/lang/fr?next=/")  # French chosen in this browser; the account's emails stay English
    sign_in_with_password(page, idp.url, email, next_path="/account/passkeys")
    page.get_by_role("link", name="Recevoir le code").click()
    prove_mailbox_in_browser(page, idp.app)
    page.get_by_label("Nom de la clé d'accès").fill("Téléphone")
    page.get_by_role("button", name="Ajouter une clé d'accès").click()
    page.get_by_role("heading", name="Vos codes de secours").wait_for()
    codes = re.findall(r"[0-9a-f]{6}-[0-9a-f]{6}", page.locator(".recovery-codes").inner_text())
    assert len(codes) == 10

    with page.expect_download() as download:
        page.get_by_role("button", name="Télécharger les codes (fichier texte)").click()
    assert download.value.suggested_filename.endswith(".txt")
    text = open(download.value.path(), encoding="utf-8").read()
    assert all(code in text for code in codes) and email in text

    with page.context.expect_page() as printed:
        page.get_by_role("button", name="Imprimer les codes").click()
    sheet = printed.value
    sheet.wait_for_load_state()
    assert [c.strip() for c in sheet.locator(".recovery-codes li").all_inner_texts()] == codes
    assert sheet.get_by_role("button", name="Imprimer cette page").is_visible()
    sheet.emulate_media(media="print")
    assert not sheet.locator(".site-header").is_visible()  # the sheet prints the codes, not the site
    sheet.close()

    page.get_by_role("link", name="J'ai conservé mes codes, continuer").click()
    sign_out(page)  # (clears every cookie, the language choice with them)
    page.goto(f"{idp.url}/lang/fr?next=/")
    authenticator.remove()  # the phone is lost
    sign_in_with_password(page, idp.url, email)
    page.get_by_role("link", name="Vous n'avez plus votre clé d'accès ? Utiliser un code de secours").click()
    page.get_by_label("Code de secours").fill(codes[0])
    page.get_by_role("button", name="Valider").click()
    page.get_by_role("heading", name="Mon compte").wait_for()
    notice = [m for m in devinbox.wait_for(email, count=3) if m["subject"] == "A recovery code was used"]
    assert notice and "You have 9 left" in notice[0]["text"]  # in the person's language

    sign_out(page)
    page.goto(f"{idp.url}/lang/fr?next=/")
    sign_in_with_password(page, idp.url, email)
    page.get_by_role("link", name="Vous n'avez plus votre clé d'accès ? Utiliser un code de secours").click()
    page.get_by_label("Code de secours").fill(codes[0])  # the same code again
    page.get_by_role("button", name="Valider").click()
    assert "Ce code de secours n'est pas valable ou a déjà servi." in page.locator(".error-summary").inner_text()
