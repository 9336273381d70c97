"""Passkeys in Chromium with its virtual authenticator: register several with names, use one as
the second factor after the password, sign in without password from the identifier page, remove
one behind the danger zone; what the ID token says (amr) and what the person is emailed."""

from __future__ import annotations

import secrets

import pytest

from tests.idp.helpers import make_user
from tests.idp.passkeys.conftest import (
    GOOD,
    Authenticator,
    add_passkey,
    authorize_in_browser,
    sign_in_with_password,
    sign_out,
    use_passkey,
    without_autofill,
)

pytestmark = pytest.mark.browser


def new_person(idp) -> str:
    email = f"pk-{secrets.token_hex(4)}@example.org"
    make_user(idp.app, email, GOOD)
    return email


def test_register_two_named_passkeys_then_use_one_after_the_password(page, idp, portal, devinbox):
    email = new_person(idp)
    without_autofill(page)  # the person types their address, then their password
    authenticator = Authenticator(page)
    sign_in_with_password(page, idp.url, email, next_path="/account/passkeys")
    add_passkey(page, idp, "Ordinateur du bureau")
    assert len(authenticator.credentials()) == 1
    rows = page.locator("table tbody tr")
    assert rows.count() == 1 and "Ordinateur du bureau" in rows.first.inner_text()
    second = Authenticator(page, transport="usb")  # a security key, plugged in beside the laptop's
    add_passkey(page, idp, "Clé de sécurité")
    assert len(second.credentials()) == 1 and page.locator("table tbody tr").count() == 2
    added = [m for m in devinbox.wait_for(email, count=3) if not m["subject"].startswith("Votre code de confirmation")]
    assert len(added) == 2 and all("Une clé d'accès a été ajoutée à votre compte" == m["subject"] for m in added)
    assert {"Ordinateur du bureau", "Clé de sécurité"} <= {n for m in added for n in
                                                          ("Ordinateur du bureau", "Clé de sécurité") if n in m["text"]}

    sign_out(page)
    second.remove()

    def password_then_passkey(page):
        page.get_by_label("Adresse e-mail").fill(email)
        page.get_by_role("button", name="Continuer").click()
        page.get_by_label("Mot de passe").fill(GOOD)
        page.get_by_role("button", name="Continuer").click()
        page.get_by_role("heading", name="Validation en deux étapes").wait_for()
        use_passkey(page)

    claims = authorize_in_browser(page, idp, portal, password_then_passkey)
    assert set(claims["amr"]) == {"pwd", "hwk", "mfa"}


def test_a_password_alone_no_longer_opens_the_account(page, idp):
    email = new_person(idp)
    without_autofill(page)
    Authenticator(page)
    sign_in_with_password(page, idp.url, email, next_path="/account/passkeys")
    add_passkey(page, idp, "Téléphone")
    sign_out(page)
    sign_in_with_password(page, idp.url, email)
    page.get_by_role("heading", name="Validation en deux étapes").wait_for()
    page.goto(f"{idp.url}/account")
    assert "/account" != page.url.removeprefix(idp.url)  # sent to sign in, not shown the account


def test_passwordless_by_the_button_of_the_identifier_page(page, idp, portal):
    email = new_person(idp)
    without_autofill(page)  # the button is the way for browsers without passkey autofill
    Authenticator(page, backup_eligible=True)  # a synced passkey (software-held key: swk)
    sign_in_with_password(page, idp.url, email, next_path="/account/passkeys")
    add_passkey(page, idp, "Trousseau synchronisé")
    assert "synchronisée" in page.locator("table").inner_text()
    sign_out(page)

    def passkey_button(page):
        page.get_by_role("button", name="Se connecter avec une clé d'accès").click()

    claims = authorize_in_browser(page, idp, portal, passkey_button)
    assert set(claims["amr"]) == {"swk", "mfa"} and claims["email"] == email


def test_passwordless_by_the_autofill_of_the_identifier_field(page, idp, portal):
    """Conditional mediation: the browser offers the passkey in the identifier field's suggestions
    (autocomplete="username webauthn"); the always-present virtual authenticator picks it at once."""
    email = new_person(idp)
    Authenticator(page)
    sign_in_with_password(page, idp.url, email, next_path="/account/passkeys")
    add_passkey(page, idp, "Téléphone")
    sign_out(page)
    claims = authorize_in_browser(page, idp, portal)  # nothing typed, nothing clicked
    assert set(claims["amr"]) == {"hwk", "mfa"} and claims["email"] == email


def test_remove_a_passkey_behind_the_danger_zone(page, idp, devinbox):
    email = new_person(idp)
    without_autofill(page)
    Authenticator(page)
    sign_in_with_password(page, idp.url, email, next_path="/account/passkeys")
    add_passkey(page, idp, "Ancien téléphone")
    page.get_by_role("link", name="Retirer la clé « Ancien téléphone »").click()
    zone = page.locator(".danger-zone")
    assert zone.is_visible() and "votre mot de passe suffira de nouveau" in zone.inner_text()
    zone.get_by_role("button", name="Retirer la clé d'accès").click()
    page.get_by_text("La clé d'accès a été retirée.").wait_for()
    assert page.locator("table").count() == 0
    removed = devinbox.wait_for(email, count=3)
    assert any(m["subject"] == "Une clé d'accès a été retirée de votre compte" for m in removed)
    sign_out(page)
    sign_in_with_password(page, idp.url, email)
    page.get_by_role("heading", name="Mon compte").wait_for()  # the password suffices again
