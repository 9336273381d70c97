"""The account page on par with Keycloak's account console: devices with readable names, their
network and last activity; "close all other sessions"; each service with its last use and its
consented scopes, withdrawn behind the danger zone (tokens revoked, consent forgotten); the
security journal the person reads."""

from __future__ import annotations

import secrets

import pytest
import requests

from tests.idp.helpers import make_client, make_user
from tests.idp.passkeys.conftest import (
    GOOD,
    PORTAL,
    authorize_in_browser,
    sign_in_with_password,
    without_autofill,
)

pytestmark = pytest.mark.browser
IPHONE = ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
          "Version/17.4 Mobile/15E148 Safari/604.1")


@pytest.fixture(scope="module")
def third_party(idp):
    return make_client(idp.app, redirect_uris=[f"{PORTAL}/callback"], name="Annuaire des avocats",
                       scope="openid email profile offline_access", first_party=False)


def test_devices_services_withdrawal_other_sessions_and_journal(page, idp, chromium, third_party):
    email = f"acct-{secrets.token_hex(4)}@example.org"
    make_user(idp.app, email, GOOD)
    phone = chromium.new_context(locale="fr-FR", user_agent=IPHONE)
    try:
        phone_page = phone.new_page()
        without_autofill(phone_page)
        sign_in_with_password(phone_page, idp.url, email)
        phone_page.get_by_role("heading", name="Mon compte").wait_for()

        without_autofill(page)

        def password_and_consent(page):
            page.get_by_label("Adresse e-mail").fill(email)
            page.get_by_role("button", name="Continuer").click()
            page.get_by_label("Mot de passe").fill(GOOD)
            page.get_by_role("button", name="Continuer").click()
            page.get_by_role("button", name="Autoriser").click()

        tokens: dict = {}
        authorize_in_browser(page, idp, third_party, password_and_consent, scope="openid email offline_access",
                             prompt="consent", keep=tokens)
        assert tokens["refresh_token"]

        page.goto(f"{idp.url}/account")
        devices = page.locator("section[aria-labelledby=sessions-title] tbody tr")
        assert devices.count() == 2
        text = page.locator("section[aria-labelledby=sessions-title]").inner_text()
        assert "Mobile Safari 17 sur iOS 17 (iPhone)" in text and "Chrome 1" in text and "sur Linux" in text
        assert "cet ordinateur (boucle locale)" in text and "(cet appareil)" in text
        service = page.locator("section[aria-labelledby=apps-title] tbody tr", has_text="Annuaire des avocats")
        assert "email" in service.inner_text() and "offline_access" in service.inner_text()

        # withdraw the service: behind the danger zone; its refresh token stops working
        service.get_by_role("link", name="Retirer l'accès à Annuaire des avocats").click()
        zone = page.locator(".danger-zone")
        assert "ses jetons sont révoqués" in zone.inner_text()
        zone.get_by_role("button", name="Retirer l'accès").click()
        page.get_by_text("L'accès du service a été retiré.").wait_for()
        assert page.locator("section[aria-labelledby=apps-title]", has_text="Annuaire des avocats").count() == 0
        refresh = requests.post(f"{idp.url}/token", data={"grant_type": "refresh_token",
                                                          "refresh_token": tokens["refresh_token"]},
                                auth=third_party, timeout=10)
        assert refresh.status_code == 400 and refresh.json()["error"] == "invalid_grant"

        # close every other session: the phone is signed out
        page.get_by_role("link", name="Fermer toutes les autres sessions").click()
        assert "Mobile Safari 17 sur iOS 17 (iPhone)" in page.locator(".danger-zone").inner_text()
        page.locator(".danger-zone").get_by_role("button", name="Fermer les autres sessions").click()
        page.get_by_text("Toutes vos autres sessions ont été fermées.").wait_for()
        assert page.locator("section[aria-labelledby=sessions-title] tbody tr").count() == 1
        phone_page.goto(f"{idp.url}/account")
        assert "/account" not in phone_page.url.removeprefix(idp.url).split("?")[0]

        page.get_by_role("link", name="Consulter le journal de sécurité").click()
        journal = page.locator("table").inner_text()
        for line in ("Connexion (mot de passe)", "Accès d'un service retiré", "Autres sessions fermées"):
            assert line in journal
    finally:
        phone.close()
