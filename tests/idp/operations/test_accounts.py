"""Accounts in the operators' console, in Chromium: search by email or name, status and reason,
reactivation, ending sessions (one or all; never another account's), and the second factor's reset
after a recorded identity check, the person emailed in their language; each action audited."""

from __future__ import annotations

import secrets

import pytest

from idp.services import sessions
from tests.idp.operations.conftest import PASSWORD, audit_events, enrol_totp, new_person, sign_in

pytestmark = pytest.mark.browser


@pytest.fixture
def other_browser(chromium):
    context = chromium.new_context(locale="fr-FR")
    yield context.new_page()
    context.close()


def signed_out(page, idp) -> bool:
    """The account page asks for the sign-in again."""
    page.goto(idp.url + "/account")
    return page.get_by_label("Adresse e-mail").is_visible() and not page.get_by_role("heading", name="Mon compte").count()


def open_account(console, idp, text: str, email: str) -> None:
    console.get_by_role("link", name="Comptes").click()
    console.get_by_label("Adresse électronique, identifiant ou nom").fill(text)
    console.get_by_role("button", name="Rechercher").click()
    console.get_by_role("link", name=email).click()
    console.get_by_role("heading", name=email).wait_for()


def test_search_by_name_or_email_and_see_the_status_and_reason(console, idp):
    family = f"Quentin{secrets.token_hex(2)}"
    person = new_person(idp, "zelie", given_name="Zélie", family_name=family)
    with idp.app.app_context():
        from idp.services import lifecycle

        lifecycle.deactivate(person.id, "dormant")
    open_account(console, idp, f"zélie {family.lower()}", person.email)
    assert "Désactivé" in console.content() and "Sans connexion depuis 16 mois" in console.content()
    console.get_by_role("link", name="Comptes").click()
    console.get_by_label("Adresse électronique, identifiant ou nom").fill(person.email.split("@")[0].upper())
    console.get_by_role("button", name="Rechercher").click()
    assert console.get_by_text("1 compte trouvé").is_visible()


def test_reactivate_a_deactivated_account(console, idp, other_browser):
    person = new_person(idp, "dormant")
    with idp.app.app_context():
        from idp.services import lifecycle

        lifecycle.deactivate(person.id, "dormant")
    open_account(console, idp, person.email, person.email)
    console.get_by_role("button", name="Réactiver le compte").click()
    console.get_by_text("Le compte est réactivé.").wait_for()
    assert "Sans connexion depuis 16 mois" not in console.content()
    sign_in(other_browser, idp, person, "/account")  # the person signs in again
    other_browser.get_by_role("heading", name="Mon compte").wait_for()
    event = audit_events(idp, "operations_account_reactivated")[-1]
    assert event.account_id == person.id and event.detail["reason_was"] == "dormant"


def test_end_one_session_or_all_but_never_another_accounts(console, idp, operator, other_browser, chromium):
    person = new_person(idp, "sessions")
    sign_in(other_browser, idp, person, "/account")
    other_browser.get_by_role("heading", name="Mon compte").wait_for()
    bystander = new_person(idp, "bystander")
    third = chromium.new_context(locale="fr-FR").new_page()
    sign_in(third, idp, bystander, "/account")
    third.get_by_role("heading", name="Mon compte").wait_for()
    bystander_sid = sessions.sid_of(next(c["value"] for c in third.context.cookies() if c["name"] == "idp_sid"))

    open_account(console, idp, person.email, person.email)
    # another account's session id posted to this account's URL (IDOR): refused, nothing ended
    token = console.locator("input[name=csrf_token]").first.get_attribute("value")
    refused = console.request.post(f"{idp.url}/operations/accounts/{person.id}/sessions/end",
                                   form={"csrf_token": token, "sid": bystander_sid}, max_redirects=0)
    assert refused.status == 404
    third.goto(idp.url + "/account")
    assert third.get_by_role("heading", name="Mon compte").is_visible()
    third.context.close()

    console.get_by_role("button", name="Fermer cette session").click()
    console.get_by_text("La session est fermée.").wait_for()
    assert signed_out(other_browser, idp)  # as by signing out
    sign_in(other_browser, idp, person, "/account")
    other_browser.get_by_role("heading", name="Mon compte").wait_for()
    console.reload()
    console.get_by_role("button", name="Fermer toutes les sessions").click()
    console.get_by_text("Les sessions sont fermées").wait_for()
    assert signed_out(other_browser, idp)
    ended = [e for e in audit_events(idp, "operations_sessions_ended") if e.account_id == person.id]
    assert [(e.detail["one"], e.detail["operator"]) for e in ended] == [(True, operator.id), (False, operator.id)]


def test_reset_the_second_factor_after_a_recorded_check(console, idp, operator, devinbox, other_browser):
    person = new_person(idp, "lost-phone", locale="en")
    person.codes = enrol_totp(idp, person.id)
    sign_in(other_browser, idp, person, "/account")
    other_browser.get_by_role("heading", name="My account").wait_for()  # the account's own language
    open_account(console, idp, person.email, person.email)
    console.get_by_role("button", name="Réinitialiser la validation en deux étapes").click()
    assert console.get_by_role("alert").is_visible()  # no check chosen, no reference: nothing done
    assert "Choisissez la vérification d'identité" in console.content()
    assert "Saisissez la référence" in console.content()
    console.get_by_label("Pièce d'identité présentée en visioconférence").check()
    console.get_by_label("Référence de la vérification (obligatoire)").fill("TICKET-4711")
    console.get_by_role("button", name="Réinitialiser la validation en deux étapes").click()
    console.get_by_text("La validation en deux étapes est réinitialisée").wait_for()
    with idp.app.app_context():
        from idp.services import mfa

        assert not mfa.is_enabled(person.id)
    assert signed_out(other_browser, idp)  # every session ended
    # the confirmation code and the "turned on" notice of its enrolment, then this one
    mails = devinbox.wait_for(person.email, count=3)
    mail = next(m for m in mails if "reset" in m["subject"])
    assert mail["subject"] == "Two-step verification of your account was reset"
    assert "identity document shown in a video call" in mail["text"]
    event = audit_events(idp, "operations_second_factor_reset")[-1]
    assert (event.account_id, event.detail["operator"], event.detail["check"], event.detail["reference"]) == \
        (person.id, operator.id, "id_document_video", "TICKET-4711")
    assert PASSWORD not in str(event.detail)
