"""Renaming a passkey from the account's list (its own page, the rules of registration, only the
account's own passkey, audited), and what removing one does to the account's other sessions: the
passkey of a lost phone goes, and the finder's session with it."""

from __future__ import annotations

import pytest

from tests.idp.helpers import csrf_token
from tests.idp.passkeys.conftest import (
    Authenticator,
    add_passkey,
    password_only_session,
    sign_in_with_password,
    use_passkey,
)
from tests.idp.passkeys.test_attacks import events_of, passkeys_of, person_with_passkey

pytestmark = pytest.mark.browser

WORDS = {
    "fr": {"rename": "Renommer la clé « {} »", "field": "Nouveau nom", "save": "Enregistrer le nom",
           "done": "La clé d'accès a été renommée.", "too_long": "Donnez à la clé d'accès un nom de 64 caractères"},
    "en": {"rename": 'Rename the passkey "{}"', "field": "New name", "save": "Save the name",
           "done": "The passkey was renamed.", "too_long": "Give the passkey a name of at most 64 characters"},
}


def signed_in_with_passkey(page, idp, email: str) -> None:
    sign_in_with_password(page, idp.url, email, next_path="/account/passkeys")
    use_passkey(page)
    page.get_by_role("heading", name="Clés d'accès").wait_for()


@pytest.mark.parametrize("language", ["fr", "en"])
def test_rename_a_passkey_from_the_list(page, idp, language):
    email, _authenticator = person_with_passkey(idp, page, "Téléphone")
    signed_in_with_passkey(page, idp, email)
    page.goto(f"{idp.url}/lang/{language}?next=/account/passkeys")
    words = WORDS[language]

    page.get_by_role("link", name=words["rename"].format("Téléphone")).click()
    field = page.get_by_label(words["field"])
    assert field.input_value() == "Téléphone"
    field.evaluate("input => input.removeAttribute('maxlength')")  # what a client ignoring it sends
    field.fill("x" * 65)
    page.get_by_role("button", name=words["save"]).click()
    assert words["too_long"] in page.locator(".error-summary").inner_text()
    assert page.get_by_label(words["field"]).get_attribute("aria-invalid") == "true"
    assert [p.name for p in passkeys_of(idp, email)] == ["Téléphone"]

    page.get_by_label(words["field"]).fill("  Téléphone   du cabinet ")
    page.get_by_role("button", name=words["save"]).click()
    page.get_by_text(words["done"]).wait_for()
    assert "Téléphone du cabinet" in page.locator("table tbody tr").inner_text()  # spaces folded, as at registration
    assert [p.name for p in passkeys_of(idp, email)] == ["Téléphone du cabinet"]
    [event] = events_of(idp, email, "passkey_renamed")
    assert event.detail["name"] == "Téléphone du cabinet" and event.detail["previous"] == "Téléphone"


def test_another_accounts_passkey_is_not_found_and_keeps_its_name(page, chromium, idp):
    other_page = chromium.new_context(locale="fr-FR").new_page()
    try:
        victim, _ = person_with_passkey(idp, other_page, "Clé du greffe")
    finally:
        other_page.context.close()
    [theirs] = passkeys_of(idp, victim)
    email, _ = person_with_passkey(idp, page, "Mon téléphone")
    signed_in_with_passkey(page, idp, email)
    token = csrf_token(page.content())

    assert page.request.get(f"{idp.url}/account/passkeys/{theirs.id}/rename").status == 404
    answer = page.request.post(f"{idp.url}/account/passkeys/{theirs.id}/rename",
                               form={"csrf_token": token, "name": "Pris"}, max_redirects=0)
    assert answer.status == 404
    assert [p.name for p in passkeys_of(idp, victim)] == ["Clé du greffe"]
    assert not events_of(idp, victim, "passkey_renamed")


def test_renaming_needs_the_csrf_token_and_a_complete_session(page, idp):
    email, _ = person_with_passkey(idp, page, "Téléphone")
    [passkey] = passkeys_of(idp, email)
    signed_in_with_passkey(page, idp, email)
    # a foreign page posting into the person's session: no token of ours, refused
    forged = page.request.post(f"{idp.url}/account/passkeys/{passkey.id}/rename", form={"name": "Piégé"},
                               max_redirects=0)
    assert forged.status == 400
    # the password alone (a thief before the second factor): sent to sign in
    thief, _second_factor_page = password_only_session(idp.url, email)
    answer = thief.post(f"{idp.url}/account/passkeys/{passkey.id}/rename",
                        data={"csrf_token": thief.csrf, "name": "Mallory"}, allow_redirects=False)
    assert answer.status_code == 302 and "/signin" in answer.headers["Location"]
    assert [p.name for p in passkeys_of(idp, email)] == ["Téléphone"]
    assert not events_of(idp, email, "passkey_renamed")


def test_removing_a_lost_phones_passkey_ends_the_phones_session(page, chromium, idp):
    email, _laptop_key = person_with_passkey(idp, page, "Ordinateur")
    signed_in_with_passkey(page, idp, email)
    phone_key = Authenticator(page, transport="usb")  # the phone's passkey, registered from the laptop
    add_passkey(page, idp, "Téléphone perdu")
    [credential] = phone_key.credentials()
    phone_key.remove()

    phone = chromium.new_context(locale="fr-FR")
    try:
        phone_page = phone.new_page()
        Authenticator(phone_page).add_credential(credential)  # whoever found the phone holds its passkey
        phone_page.add_init_script("if (window.PublicKeyCredential) PublicKeyCredential"
                                   ".isConditionalMediationAvailable = () => Promise.resolve(false);")
        signed_in_with_passkey(phone_page, idp, email)

        page.goto(f"{idp.url}/account/passkeys")
        page.get_by_role("link", name="Retirer la clé « Téléphone perdu »").click()
        zone = page.locator(".danger-zone")
        assert "Vos sessions ouvertes sur d'autres appareils seront fermées" in zone.inner_text()
        zone.get_by_role("button", name="Retirer la clé d'accès").click()
        page.get_by_text("La clé d'accès a été retirée. Vos autres sessions ont été fermées.").wait_for()

        phone_page.goto(f"{idp.url}/account/passkeys")
        phone_page.get_by_label("Adresse e-mail").wait_for()  # the phone's session is over: sign in again
        assert not phone_page.url.removeprefix(idp.url).startswith("/account")
        page.goto(f"{idp.url}/account/passkeys")
        assert page.url == f"{idp.url}/account/passkeys"  # the laptop's goes on
        assert [p.name for p in passkeys_of(idp, email)] == ["Ordinateur"]
    finally:
        phone.close()
