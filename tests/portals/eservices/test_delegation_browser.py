"""Seed 002 end to end in Chromium: register as administrator, activate, ask for the letter from
"Mes organisations", the letter's codes entered by the
legal representative on the portal, subscribe, grant yourself and a user, use the e-service,
revoke, and see the launcher and the page refuse — at the next request, not the next sign-in."""

from __future__ import annotations

import io
import re

import pytest
from pypdf import PdfReader

from portals.eservices import create_app as create_portal
from portals.eservices import upgrade_database as upgrade_portal
from tests.idp.helpers import start_idp
from tests.servers import LiveServer, free_port

pytestmark = pytest.mark.browser
PASSWORD = "Mairie-Liepvre-2026"
LETTER_RECIPIENT = "madame la maire anne faure\nmairie de lièpvre\n1 place de la mairie\n68660 lièpvre"


@pytest.fixture
def stack(tmp_path, monkeypatch, devinbox):
    portal_port = free_port()
    portal_url = f"http://127.0.0.1:{portal_port}"
    monkeypatch.setenv("ESERVICES_PUBLIC_URL", portal_url)
    idp = start_idp(f"sqlite:///{tmp_path / 'idp.db'}", **devinbox.settings())
    idp.devinbox = devinbox
    from idp.services import clients

    with idp.app.app_context():
        _client, secret = clients.create(
            "Portail e-services", [f"{portal_url}/callback"], post_logout_redirect_uris=[f"{portal_url}/"],
            backchannel_logout_uri=f"{portal_url}/backchannel-logout", client_id="eservices", first_party=True,
            scope="openid profile email offline_access organisation management",
            grant_types=["authorization_code", "refresh_token", "client_credentials"])
    monkeypatch.setenv("ESERVICES_CLIENT_SECRET", secret)
    portal_db = f"sqlite:///{tmp_path / 'eservices.db'}"
    upgrade_portal(portal_db)
    portal_app = create_portal({"database_url": portal_db, "issuer": idp.url, "_quiet": True})
    portal_app.config["PERMISSION_CACHE_SECONDS"] = 0  # the rule under test: the very next request
    portal = LiveServer(portal_app, portal_port).start()
    yield idp, portal
    portal.stop()
    idp.stop()



@pytest.fixture
def browser(chromium):
    return chromium


def read_letter(idp) -> tuple[str, str, str]:
    """The letter to the legal representative, as the post delivers it: the PDF in the dev inbox."""
    import requests

    letter = idp.devinbox.wait_for(LETTER_RECIPIENT, channel="letter")[0]
    assert letter["has_attachment"] and letter["to"].startswith("madame la maire anne faure")
    pdf = requests.get(f"{idp.devinbox.url}/messages/{letter['id']}/attachment", timeout=10).content
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    reference = re.search(r"Référence de la demande : (ADM-[A-Z0-9]+)", text).group(1)
    code_1 = re.search(r"Code de confirmation n° 1 : ([A-Z0-9]+)", text).group(1)
    code_2 = re.search(r"Code de confirmation n° 2 : ([A-Z0-9]+)", text).group(1)
    return reference, code_1, code_2


def sign_in(page, portal_url: str, identifier: str) -> None:
    page.goto(portal_url + "/")
    page.get_by_role("link", name="Se connecter").click()
    page.get_by_label("Adresse e-mail").fill(identifier)
    page.get_by_role("button", name="Continuer").click()
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Continuer").click()
    page.wait_for_url(portal_url + "/")


def register(page, idp, role: str, given: str, family: str, email: str, new_org: bool) -> str:
    """Register on the IdP's form, then open the activation link of the email (the dev inbox)."""
    page.goto(idp.url + "/organisations/inscription")
    page.get_by_label("Administrateur" if role == "administrator" else "Utilisateur", exact=True).check()
    if new_org:
        page.get_by_label("Organisation *", exact=True).select_option("new")
        page.get_by_label("Nom de l'organisation *").fill("Mairie de Lièpvre")
        page.get_by_label("Type d'organisation *").select_option("commune")
        page.get_by_label("Adresse postale *").fill("1 place de la Mairie")
        page.get_by_label("Code postal *").fill("68660")
        page.get_by_label("Commune *").fill("Lièpvre")
        page.get_by_label("Nom du représentant légal *").fill("Anne FAURE")
        page.get_by_label("Qualité du représentant légal *").fill("Madame la Maire")
    else:
        page.get_by_label("Organisation *", exact=True).select_option(label="Mairie de Lièpvre (68660 Lièpvre)")
    page.get_by_label("Prénom").fill(given)
    page.locator("#family_name").fill(family)
    page.get_by_label("Adresse électronique").fill(email)
    page.get_by_label("J'accepte les conditions d'utilisation du portail e-services").check()
    page.get_by_role("button", name="Valider").click()
    page.get_by_role("heading", name="Inscription enregistrée").wait_for()
    confirmation = page.content()
    messages = idp.devinbox.wait_for(email, count=2)
    link = next(link for message in messages for link in message["links"] if "/activate/" in link)
    page.goto(link)  # the password is chosen here, once the address is proven
    page.locator("#password").fill(PASSWORD)
    page.get_by_label("Répétez le mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Activer mon compte").click()
    page.get_by_role("heading", name="Votre compte est activé").wait_for()
    return confirmation


def test_delegated_permissions_from_the_letter_to_the_revocation(stack, browser):
    idp, portal = stack
    admin = browser.new_context(locale="fr-FR").new_page()
    legal_rep = browser.new_context(locale="fr-FR").new_page()
    user = browser.new_context(locale="fr-FR").new_page()

    # 1. Hugo registers as administrator of a new organisation; once his account is activated he signs
    #    in and sends the request from "Mes organisations": a letter goes to the legal representative
    confirmation = register(admin, idp, "administrator", "Hugo", "BERNARD", "hugo.bernard@example.org", new_org=True)
    assert "pour envoyer votre demande d'administrateur de « Mairie de Lièpvre »" in confirmation
    at_idp = browser.new_context(locale="fr-FR").new_page()
    at_idp.goto(idp.url + "/organisations/")
    at_idp.get_by_label("Adresse e-mail").fill("hugo.bernard@example.org")
    at_idp.get_by_role("button", name="Continuer").click()
    at_idp.get_by_label("Mot de passe").fill(PASSWORD)
    at_idp.get_by_role("button", name="Continuer").click()
    at_idp.get_by_role("button", name="Envoyer ma demande d'administrateur au représentant légal").click()
    assert "Un courrier avec les codes de confirmation est envoyé au représentant légal" in at_idp.content()
    reference, code_1, code_2 = read_letter(idp)

    # 2. Before the codes, Hugo is not operational: the portal shows him no organisation to act for
    sign_in(admin, portal.url, "hugo-bernard")  # the seed-002 identifier built from his names
    assert "Vous n'agissez pour aucune organisation" in admin.content()

    # 3. The legal representative types the codes on the portal
    legal_rep.goto(portal.url + "/representant-legal")
    legal_rep.get_by_label("Référence de la demande").fill(reference)
    legal_rep.get_by_label("Code de confirmation n° 1").fill(code_2)  # swapped: refused
    legal_rep.get_by_label("Code de confirmation n° 2").fill(code_1)
    legal_rep.get_by_role("button", name="Valider").click()
    assert "ne correspondent pas" in legal_rep.locator("#outcome").inner_text()
    legal_rep.get_by_label("Code de confirmation n° 1").fill(code_1)
    legal_rep.get_by_label("Code de confirmation n° 2").fill(code_2)
    legal_rep.get_by_role("button", name="Valider").click()
    assert ("Hugo BERNARD (hugo-bernard) est désormais l'administrateur de « Mairie de Lièpvre »"
            in legal_rep.locator("#outcome").inner_text())  # whom he has just validated

    # 4. Léa registers as a user of the organisation
    register(user, idp, "user", "Léa", "MULLER", "lea.muller@example.org", new_org=False)

    # 5. Without signing in again (the same portal session and tokens), Hugo now acts for the
    #    organisation as its administrator; he opens the console, subscribes, validates Léa, grants
    #    himself and Léa the e-service
    admin.goto(portal.url + "/")
    assert "Vous agissez pour : Mairie de Lièpvre (administrateur)" in admin.content()
    assert "Changer d'organisation" not in admin.locator("main").inner_text()  # one organisation: nothing to switch
    assert "Aucun e-service ne vous est encore autorisé" in admin.content()  # no permission by default
    admin.get_by_role("link", name="Console d'administration", exact=True).first.click()
    admin.get_by_role("heading", name="Console d'administration — Mairie de Lièpvre").wait_for()
    admin.get_by_role("button", name="Abonner à « Actes d'état civil »").click()
    assert "L'organisation est abonnée à l'e-service." in admin.content()
    admin.get_by_role("button", name="Valider l'inscription de lea-muller", exact=True).click()
    assert "L'inscription est validée." in admin.content()
    admin.get_by_role("button", name="Autoriser hugo-bernard — Actes d'état civil").click()
    admin.get_by_role("button", name="Autoriser lea-muller — Actes d'état civil").click()
    assert "La permission est accordée." in admin.content()

    # 6. Hugo uses the e-service from his launcher
    admin.goto(portal.url + "/")
    admin.get_by_role("link", name="Actes d'état civil").click()
    admin.get_by_label("Transmettre un acte").check()
    admin.get_by_label("Acte de naissance").check()
    admin.get_by_label("Nom de la personne concernée").fill("MULLER")
    admin.get_by_label("Prénoms de la personne concernée").fill("Jules")
    admin.get_by_label("Date de l'acte").fill("2026-03-14")
    admin.get_by_label("Commune où l'acte a été dressé").fill("Lièpvre")
    admin.get_by_role("button", name="Valider").click()
    assert "Votre démarche est enregistrée sous la référence EC-" in admin.content()
    reference = admin.get_by_role("heading", level=1).inner_text().removeprefix("Démarche ")

    # 7. Léa signs in, sees the e-service in her launcher and the organisation's démarche
    sign_in(user, portal.url, "lea-muller")
    user.get_by_role("link", name="Actes d'état civil").click()
    user.get_by_role("link", name=reference).click()  # the organisation's record, opened by its reference
    assert "Jules" in user.content() and "Hugo BERNARD" in user.content()
    assert "Listes électorales" not in user.locator("main").inner_text()

    # 8. Hugo revokes Léa's permission and his own
    admin.goto(idp.url + "/organisations/console")
    admin.get_by_role("button", name="Retirer lea-muller — Actes d'état civil").click()
    admin.get_by_role("button", name="Retirer hugo-bernard — Actes d'état civil").click()
    assert "La permission est retirée." in admin.content()

    # 9. At their next request, without signing in again, the page and the launcher refuse
    response = user.reload()
    assert response.status == 403
    assert "Vous n'êtes pas autorisé(e) à utiliser l'e-service « Actes d'état civil »" in user.content()
    user.goto(portal.url + "/")
    assert user.get_by_role("link", name="Actes d'état civil").count() == 0
    assert "Aucun e-service ne vous est encore autorisé" in user.content()
    response = admin.goto(portal.url + "/e-services/etat-civil")
    assert response.status == 403

    # 10. Hugo invalidates Léa's registration: a danger zone first, then the confirmation; her
    #     account stays usable (she still reaches her account page at the IdP)
    admin.goto(idp.url + "/organisations/console")
    admin.get_by_role("link", name="Invalider l'inscription lea-muller").click()
    admin.get_by_role("heading", name="Zone de danger").wait_for()
    admin.get_by_role("button", name="Invalider l'inscription").click()
    assert "Cochez la case pour confirmer l'invalidation." in admin.content()
    admin.get_by_label("Je confirme l'invalidation de l'inscription de lea-muller dans « Mairie de Lièpvre »").check()
    admin.get_by_role("button", name="Invalider l'inscription").click()
    assert "L'inscription est invalidée." in admin.content()
    user.goto(idp.url + "/account")
    assert user.url.startswith(idp.url + "/account")

    # 11. Every console decision about Léa reached her inbox, each saying what happened
    subjects = {m["subject"] for m in idp.devinbox.wait_for("lea.muller@example.org", count=6)}
    assert {"Votre inscription à « Mairie de Lièpvre » est validée", "Nouvel e-service : « Actes d'état civil »",
            "E-service retiré : « Actes d'état civil »",
            "Votre inscription à « Mairie de Lièpvre » est invalidée"} <= subjects
    assert any("à valider" in m["subject"] for m in idp.devinbox.wait_for("hugo.bernard@example.org", count=3))

    # 12. Hugo grants himself the e-service again, then ends the subscription through its danger zone,
    #     with a reason: the member who held it is told by email, the history keeps the reason
    admin.goto(idp.url + "/organisations/console")
    admin.get_by_role("button", name="Autoriser hugo-bernard — Actes d'état civil").click()
    admin.get_by_role("link", name="Résilier « Actes d'état civil »").click()
    admin.get_by_role("heading", name="Zone de danger").wait_for()
    admin.get_by_label("Motif (facultatif, gardé dans l'historique de la console)").fill("Service repris par la CC")
    admin.get_by_label("Je confirme la résiliation de « Actes d'état civil » pour « Mairie de Lièpvre »").check()
    admin.get_by_role("button", name="Résilier l'abonnement").click()
    assert "L'abonnement est résilié." in admin.content()
    assert "motif : Service repris par la CC" in admin.content()
    ended = wait_for_text(idp.devinbox, "hugo.bernard@example.org", "a résilié son abonnement à l'e-service")
    assert ended["subject"] == "E-service retiré : « Actes d'état civil »"


def wait_for_text(devinbox, to: str, text: str, timeout: float = 15.0) -> dict:
    """The first message to ``to`` whose text holds ``text``, once delivered (delivery is asynchronous)."""
    import time

    deadline = time.monotonic() + timeout
    while True:
        found = [m for m in devinbox.messages(to) if text in (m.get("text") or "")]
        if found or time.monotonic() > deadline:
            assert found, f"no message to {to} with {text!r}"
            return found[0]
        time.sleep(0.2)


def test_one_person_several_organisations_one_at_a_time(stack, browser):
    """Seed 002's "plusieurs organisations": one account, one organisation per session, a switch."""
    idp, portal = stack
    from idp.services import accounts
    from idp.services import organisations as orgs
    from idp.storage.sql.organisations import Membership, OrganisationStore
    from tests.idp.organisations.conftest import org_data

    with idp.app.app_context():
        claire = accounts.create("claire.martin@example.org", PASSWORD, given_name="Claire", family_name="MARTIN",
                                 username="claire-martin")
    with idp.app.extensions["db"].session() as session:
        store = OrganisationStore(session)
        town = orgs.create_organisation(store, org_data("Mairie A", "111111118"))
        assoc = orgs.create_organisation(store, org_data("Association B", "222222226", "association"))
        for organisation, eservice_id in ((town, "etat-civil"), (assoc, "subventions")):
            membership = Membership(account_id=claire.id, organisation_id=organisation.id, role="administrator",
                                    status="active")
            store.add(membership)
            orgs.subscribe(store, claire.id, organisation.id, eservice_id)
            orgs.grant(store, claire.id, organisation.id, membership.id, eservice_id)

    page = browser.new_context(locale="fr-FR").new_page()
    page.goto(portal.url + "/")
    page.get_by_role("link", name="Se connecter").click()
    page.get_by_label("Adresse e-mail").fill("claire-martin")
    page.get_by_role("button", name="Continuer").click()
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Continuer").click()
    # the post-login step: which organisation does this session act for?
    page.get_by_role("heading", name="Pour quelle organisation agissez-vous ?").wait_for()
    page.get_by_label("Association B (Administrateur)").check()
    page.get_by_role("button", name="Continuer").click()
    page.wait_for_url(portal.url + "/")
    main = page.locator("main").inner_text()
    assert "Vous agissez pour : Association B" in main
    assert "Demandes de subvention" in main and "Actes d'état civil" not in main
    assert page.goto(portal.url + "/e-services/etat-civil").status == 403  # the other organisation's grant

    # switch: the IdP asks again, the portal signs in again without a password, nothing mixes
    page.goto(portal.url + "/")
    page.get_by_role("link", name="Changer d'organisation").first.click()
    page.get_by_label("Mairie A (Administrateur)").check()
    page.get_by_role("button", name="Continuer").click()
    page.wait_for_url(portal.url + "/")
    main = page.locator("main").inner_text()
    assert "Vous agissez pour : Mairie A" in main
    assert "Actes d'état civil" in main and "Demandes de subvention" not in main
    assert page.goto(portal.url + "/e-services/subventions").status == 403
    page.goto(idp.url + "/organisations/console")
    assert "Console d'administration — Mairie A" in page.content() and "Association B" not in page.locator("main").inner_text()

    # a switch made at the IdP itself (its choice page, not the portal's link) reaches the portal's next
    # request: no sign-in again, the portal asks the IdP for whom the session acts
    page.goto(idp.url + "/organisations/choix")
    page.get_by_label("Association B (Administrateur)").check()
    page.get_by_role("button", name="Continuer").click()
    page.goto(portal.url + "/")
    main = page.locator("main").inner_text()
    assert "Vous agissez pour : Association B" in main and "Demandes de subvention" in main
    assert page.goto(portal.url + "/e-services/etat-civil").status == 403
