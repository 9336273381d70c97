"""The lifecycle in Chromium, reading the mail in the dev inbox's pages as a person would:
registration to signed in, password reset, TOTP enrolment then sign-in with a pyotp code."""

from __future__ import annotations

import re
import secrets
import time

import pyotp
import pytest

from tests.idp.helpers import make_user, prove_mailbox_in_browser

pytestmark = pytest.mark.browser
GOOD = "Bonne-Passe-2026"



@pytest.fixture
def page(chromium):
    context = chromium.new_context(locale="fr-FR")
    yield context.new_page()
    context.close()


def open_mail(page, devinbox, email: str, subject: str, count: int = 1) -> None:
    """Open the dev inbox, the message with this subject, and click its link."""
    devinbox.wait_for(email, count=count)
    page.goto(f"{devinbox.url}/?to={email}")
    page.get_by_role("link", name=subject).first.click()
    page.locator("main a[href*='127.0.0.1']").first.click()


def sign_in_at_idp(page, idp_url: str, email: str, password: str) -> None:
    page.goto(idp_url + "/signin?next=/account")
    page.get_by_label("Adresse e-mail").fill(email)
    page.get_by_role("button", name="Continuer").click()
    page.get_by_label("Mot de passe").fill(password)
    page.get_by_role("button", name="Continuer").click()


def test_registration_from_the_form_to_signed_in(page, idp, devinbox):
    email = f"browser-{secrets.token_hex(4)}@example.org"
    page.goto(idp.url + "/registration")
    page.locator("#given_name").fill("Alex")
    page.locator("#family_name").fill("Martin")
    page.get_by_label("Adresse électronique").fill(email)
    page.get_by_role("button", name="S'inscrire").click()
    assert page.get_by_role("alert").is_visible()  # terms not accepted: the error summary
    assert "accepter les conditions" in page.content()
    page.locator("#terms").check()
    page.get_by_role("button", name="S'inscrire").click()
    page.get_by_role("heading", name="Consultez votre messagerie").wait_for()

    # the password is chosen once the address is proven, on the validation link's page
    open_mail(page, devinbox, email, "Validez votre adresse électronique")
    password = page.locator("#password")
    password.fill("abc")
    # the rules are ticked as the user types
    assert "rule--met" not in (page.locator("li[data-rule=digit]").get_attribute("class") or "")
    password.fill(GOOD)
    for rule in ("min_length", "digit", "lowercase", "uppercase"):
        assert "rule--met" in page.locator(f"li[data-rule={rule}]").get_attribute("class")
    page.get_by_label("Répétez le mot de passe").fill(GOOD)
    page.get_by_role("button", name="Activer mon compte").click()
    page.get_by_role("heading", name="Votre compte est activé").wait_for()
    sign_in_at_idp(page, idp.url, email, GOOD)
    page.get_by_role("heading", name="Mon compte").wait_for()
    assert email in page.content()


def test_forgotten_password_by_the_emailed_link(page, idp, devinbox):
    email = f"forgot-{secrets.token_hex(4)}@example.org"
    make_user(idp.app, email, GOOD)
    page.goto(idp.url + "/signin?next=/account")
    page.get_by_label("Adresse e-mail").fill(email)
    page.get_by_role("button", name="Continuer").click()
    page.get_by_role("link", name="Mot de passe oublié ?").click()
    page.get_by_label("Adresse électronique").fill(email)
    page.get_by_role("button", name="Envoyer le lien").click()
    page.get_by_role("heading", name="Consultez votre messagerie").wait_for()

    open_mail(page, devinbox, email, "Réinitialisation de votre mot de passe")
    page.get_by_label("Nouveau mot de passe").fill("Nouvelle-Passe-7")
    page.get_by_label("Répétez le mot de passe").fill("Nouvelle-Passe-7")
    page.get_by_role("button", name="Enregistrer le mot de passe").click()
    page.get_by_role("heading", name="Votre mot de passe a été modifié").wait_for()
    sign_in_at_idp(page, idp.url, email, "Nouvelle-Passe-7")
    page.get_by_role("heading", name="Mon compte").wait_for()


def test_totp_enrolment_and_sign_in_with_a_pyotp_code(page, idp):
    email = f"browser-totp-{secrets.token_hex(4)}@example.org"
    make_user(idp.app, email, GOOD)
    sign_in_at_idp(page, idp.url, email, GOOD)
    page.get_by_role("link", name="Activer la validation en deux étapes").click()
    page.get_by_role("heading", name="Confirmez que c'est bien vous").wait_for()
    prove_mailbox_in_browser(page, idp.app)
    assert page.get_by_role("img", name=re.compile("Code QR")).is_visible()
    secret = page.locator("code.secret").inner_text()
    page.get_by_label("Code à 6 chiffres").fill(pyotp.TOTP(secret).now())
    page.get_by_role("button", name="Activer").click()
    page.get_by_role("heading", name="Vos codes de secours").wait_for()
    assert page.locator(".recovery-codes li").count() == 10
    page.get_by_role("link", name="J'ai conservé mes codes, continuer").click()
    page.get_by_role("button", name="Se déconnecter").click()

    sign_in_at_idp(page, idp.url, email, GOOD)
    page.get_by_role("heading", name="Validation en deux étapes").wait_for()
    page.get_by_label(re.compile("Code à 6 chiffres")).fill(pyotp.TOTP(secret).at(time.time() + 30))
    page.get_by_role("button", name="Valider").click()
    page.get_by_role("heading", name="Mon compte").wait_for()
    assert "Activée" in page.content()
