"""A client can require a phishing-resistant factor (acr ``phr``): by request (acr_values), by
policy for every account, or for the accounts holding a role (the eComms registry's staff). A
password, even with a TOTP code, is not enough: the person uses or registers a passkey in the
sign-in, and the ID token says acr=phr with amr hwk."""

from __future__ import annotations

import secrets

import pytest

from tests.idp.helpers import make_client, make_user, prove_mailbox_in_browser
from tests.idp.passkeys.conftest import (
    GOOD,
    PORTAL,
    Authenticator,
    authorize_in_browser,
    use_passkey,
    without_autofill,
)

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def registry_portal(idp):
    return make_client(idp.app, redirect_uris=[f"{PORTAL}/callback"], scope="openid email", first_party=True,
                       policy={"phishing_resistant_roles": ["registry"]})


def password(email):
    def sign_in(page):
        page.get_by_label("Adresse e-mail").fill(email)
        page.get_by_role("button", name="Continuer").click()
        page.get_by_label("Mot de passe").fill(GOOD)
        page.get_by_role("button", name="Continuer").click()
    return sign_in


def test_registry_staff_register_a_passkey_in_the_sign_in_then_use_it(page, idp, registry_portal):
    email = f"greffe-{secrets.token_hex(4)}@example.org"
    make_user(idp.app, email, GOOD, roles=["registry"])
    without_autofill(page)
    Authenticator(page)

    def password_then_new_passkey(page):
        password(email)(page)
        prove_mailbox_in_browser(page, idp.app)  # the account's first factor
        page.get_by_role("heading", name="Ajouter une clé d'accès").wait_for()
        assert "résistante à l'hameçonnage" in page.content()
        page.get_by_label("Nom de la clé d'accès").fill("Poste du greffe")
        page.get_by_role("button", name="Ajouter une clé d'accès").click()
        page.get_by_role("link", name="J'ai conservé mes codes, continuer").click()

    claims = authorize_in_browser(page, idp, registry_portal, password_then_new_passkey)
    assert claims["amr"] and "hwk" in claims["amr"]
    page.context.clear_cookies()

    def password_then_passkey(page):
        password(email)(page)
        use_passkey(page)

    claims = authorize_in_browser(page, idp, registry_portal, password_then_passkey)
    assert set(claims["amr"]) == {"pwd", "hwk", "mfa"}


def test_an_applicant_without_the_role_signs_in_with_a_password(page, idp, registry_portal):
    email = f"requerant-{secrets.token_hex(4)}@example.org"
    make_user(idp.app, email, GOOD)
    without_autofill(page)
    claims = authorize_in_browser(page, idp, registry_portal, password(email))
    assert claims["amr"] == ["pwd"]


def test_acr_values_phr_is_stated_in_the_id_token(page, idp, portal):
    email = f"phr-{secrets.token_hex(4)}@example.org"
    make_user(idp.app, email, GOOD)
    without_autofill(page)
    Authenticator(page)

    def password_then_new_passkey(page):
        password(email)(page)
        prove_mailbox_in_browser(page, idp.app)
        page.get_by_label("Nom de la clé d'accès").fill("Téléphone")
        page.get_by_role("button", name="Ajouter une clé d'accès").click()
        page.get_by_role("link", name="J'ai conservé mes codes, continuer").click()

    claims = authorize_in_browser(page, idp, portal, password_then_new_passkey, acr_values="phr")
    assert claims["acr"] == "phr"
