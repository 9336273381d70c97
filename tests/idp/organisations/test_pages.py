"""The organisation pages at the IdP: registration form, the console confined to the session's
organisation (a cross-organisation matrix through the pages), the switch, the legal
representative's page. Sign-in is the core's session service (a session created for the account)."""

from __future__ import annotations

import re

import pytest

from idp.services import organisations as orgs
from idp.storage.sql.organisations import OrganisationStore
from idp.storage.sql.outbox import OutboxMessage
from shared.timeutil import utcnow
from tests.idp.organisations.conftest import CODE_URL, choose, csrf, make_person, org_data, sign_in, text


def test_registration_form_marks_required_fields_and_explains_the_button(app):
    page = text(app.test_client().get("/organisations/inscription"))
    assert "Les champs marqués d'un astérisque (*) sont obligatoires." in page
    assert "J'accepte les conditions d'utilisation" in page
    assert "Le bouton « Valider » ne fonctionne pas ?" in page
    assert '<button type="submit" class="button" aria-describedby="valider-hint">Valider</button>' in page


def test_registration_as_administrator_sends_the_letter_once_activated_and_signed_in(app):
    client = app.test_client()
    token = csrf(client, "/organisations/inscription")
    response = client.post("/organisations/inscription", data={
        "csrf_token": token, "role": "administrator", "organisation_id": "new",
        **org_data("Mairie de Lièpvre", "216801803"), "given_name": "Hugo", "family_name": "Bernard",
        "email": "hugo@example.org", "terms": "on"})
    assert response.status_code == 200
    assert "connectez-vous et ouvrez « Mes organisations » pour envoyer votre demande" in text(response)
    with app.extensions["db"].session() as session:
        assert session.query(OutboxMessage).filter_by(channel="letter").count() == 0
        from idp.storage.sql.models import Account

        hugo = session.query(Account).filter_by(email="hugo@example.org").one()
        hugo.status = "active"  # what the activation link does
        hugo_id = hugo.id
    sign_in(app, client, hugo_id)
    page = text(client.get("/organisations/"))
    assert "Envoyer ma demande d'administrateur au représentant légal" in page
    organisation_id = re.search(r'action="/organisations/([^/"]+)/administrateur"', page).group(1)
    answer = client.post(f"/organisations/{organisation_id}/administrateur", data={"csrf_token": csrf(client, "/organisations/")},
                         follow_redirects=True)
    assert "Un courrier avec les codes de confirmation est envoyé au représentant légal" in text(answer)
    with app.extensions["db"].session() as session:
        letter = session.query(OutboxMessage).filter_by(channel="letter").one()
        assert letter.attachment.startswith(b"%PDF")


def test_new_organisation_fields_sent_with_a_listed_organisation_are_ignored(app, world):
    """Without the script the fieldset is sent too (or a crafted post fills it): with an organisation
    of the list chosen, no organisation is made from it, its bad values are no error, and the
    registration joins the listed one."""
    client = app.test_client()
    token = csrf(client, "/organisations/inscription")
    with app.extensions["db"].session() as session:
        before = len(OrganisationStore(session).organisations())
    response = client.post("/organisations/inscription", data={
        "csrf_token": token, "role": "user", "organisation_id": world["town"],
        **org_data("Mairie Fantôme", "123"), "org_postcode": "x", "given_name": "Lina", "family_name": "Roth",
        "email": "lina@example.org", "terms": "on"})
    assert response.status_code == 200, text(response)
    assert "L'administrateur de « Mairie A » doit valider votre inscription" in text(response)
    with app.extensions["db"].session() as session:
        store = OrganisationStore(session)
        assert len(store.organisations()) == before and "Mairie Fantôme" not in [o.name for o in store.organisations()]
        lina = store.account_by_email("lina@example.org")
        assert [organisation.id for _m, organisation in store.memberships_of_account(lina.id)] == [world["town"]]


def test_the_new_organisation_fields_are_checked_when_new_is_chosen(app):
    client = app.test_client()
    token = csrf(client, "/organisations/inscription")
    response = client.post("/organisations/inscription", data={
        "csrf_token": token, "role": "administrator", "organisation_id": "new", "given_name": "Lina",
        "family_name": "Roth", "email": "lina@example.org", "terms": "on"})
    assert response.status_code == 400
    page = text(response)
    for message in ("Indiquez le nom de l'organisation", "Choisissez le type d'organisation",
                    "Indiquez l'adresse postale de l'organisation", "Indiquez la commune",
                    "Indiquez le nom du représentant légal"):
        assert f'">{message}</a></li>' in page, message


def test_registration_errors_are_summarised_and_nothing_is_created(app):
    client = app.test_client()
    token = csrf(client, "/organisations/inscription")
    response = client.post("/organisations/inscription", data={"csrf_token": token, "role": "user"})
    assert response.status_code == 400
    page = text(response)
    assert "Il y a un problème" in page and "Cochez la case d'acceptation des conditions d'utilisation" in page


def test_a_session_acts_for_one_organisation_chosen_among_the_memberships(app, world):
    client = app.test_client()
    sign_in(app, client, world["claire"])
    page = text(client.get("/organisations/choix"))
    assert "Mairie A" in page and "Association B" in page
    assert client.get("/organisations/console").status_code == 302  # no organisation chosen yet
    assert choose(client, world["town"]).status_code == 302
    console = text(client.get("/organisations/console"))
    assert "Mairie A" in console and "fred@example.org" in console
    assert choose(client, world["assoc"]).status_code == 302
    console = text(client.get("/organisations/console"))
    assert "Association B" in console and "fred@example.org" not in console


def test_cannot_choose_an_organisation_without_membership(app, world):
    client = app.test_client()
    sign_in(app, client, world["bruno"])
    assert choose(client, world["town"]).status_code == 400


@pytest.mark.parametrize("action", ["validate", "invalidate", "grant", "revoke"])
def test_an_administrator_cannot_touch_another_organisations_members(app, world, action):
    client = app.test_client()
    sign_in(app, client, world["bruno"])  # acts for Association B (his only organisation)
    token = csrf(client, "/organisations/console")
    paths = {
        "validate": f"/organisations/console/membres/{world['fred_m']}/valider",
        "invalidate": f"/organisations/console/membres/{world['fred_m']}/invalider",
        "grant": f"/organisations/console/membres/{world['fred_m']}/e-services",
        "revoke": f"/organisations/console/membres/{world['fred_m']}/e-services",
    }
    data = {"csrf_token": token, "eservice_id": "etat-civil", "action": action}
    assert client.post(paths[action], data=data).status_code == 404
    with app.extensions["db"].session() as session:
        membership = OrganisationStore(session).membership(world["fred_m"])
        assert membership.status == "pending"


def test_unsubscribing_acts_only_on_the_sessions_organisation(app, world):
    client = app.test_client()
    sign_in(app, client, world["bruno"])
    token = csrf(client, "/organisations/console")
    client.post("/organisations/console/abonnements",
                data={"csrf_token": token, "eservice_id": "etat-civil", "action": "unsubscribe", "confirm": "yes"})
    with app.extensions["db"].session() as session:
        assert [s.eservice_id for s in OrganisationStore(session).subscriptions(world["town"])] == ["etat-civil"]


def test_a_user_has_no_console(app, world):
    client = app.test_client()
    with app.extensions["db"].session() as session:
        orgs.validate_member(OrganisationStore(session), world["claire"], world["town"], world["fred_m"], utcnow())
    sign_in(app, client, world["fred"])
    assert client.get("/organisations/console").status_code == 403


def test_legal_representative_page_at_the_idp(app):
    with app.extensions["db"].session() as session:
        store = OrganisationStore(session)
        organisation = orgs.create_organisation(store, org_data("Mairie C", "333333334"))
        candidate = make_person(store, "Hugo", "Bernard", "hugo@example.org")
        _m, letter = orgs.join_organisation(store, candidate, organisation, "administrator", utcnow(), CODE_URL)
        reference, codes = letter.request.reference, letter.codes
    client = app.test_client()
    token = csrf(client, "/organisations/confirmation")
    wrong = client.post("/organisations/confirmation", data={"csrf_token": token, "reference": reference,
                                                             "code_1": codes[1], "code_2": codes[0]})
    assert wrong.status_code == 400 and "ne correspondent pas" in text(wrong)
    right = client.post("/organisations/confirmation", data={"csrf_token": token, "reference": reference,
                                                             "code_1": codes[0], "code_2": codes[1]})
    assert right.status_code == 200
    assert "Hugo Bernard (hugo-bernard) est désormais l'administrateur de « Mairie C »" in text(right)


def test_becoming_the_new_administrator_from_my_organisations(app, world):
    with app.extensions["db"].session() as session:
        orgs.validate_member(OrganisationStore(session), world["claire"], world["town"], world["fred_m"], utcnow())
    client = app.test_client()
    sign_in(app, client, world["fred"])
    token = csrf(client, "/organisations/")
    response = client.post(f"/organisations/{world['town']}/administrateur", data={"csrf_token": token},
                           follow_redirects=True)
    page = text(response)
    assert "Un courrier avec les codes de confirmation est envoyé au représentant légal" in page
    assert "en attente des codes du représentant légal" in page
    with app.extensions["db"].session() as session:
        assert session.query(OutboxMessage).filter_by(channel="letter").count() == 1
    # another organisation's page is not his to ask
    assert client.post(f"/organisations/{world['assoc']}/administrateur",
                       data={"csrf_token": token}).status_code == 404


def test_a_member_without_names_is_shown_by_address_never_none(app, world):
    """An account made by the sign-in page's generic "Inscription" holds no names nor identifier."""
    from idp.storage.sql.models import Account

    with app.extensions["db"].session() as session:
        store = OrganisationStore(session)
        plain = Account(email="plain@example.org", status="active", roles=[], locale="fr")
        store.add(plain)
        orgs.join_organisation(store, plain, store.organisation(world["town"]), "user", utcnow(), CODE_URL)
    client = app.test_client()
    sign_in(app, client, world["claire"])
    choose(client, world["town"])
    console = text(client.get("/organisations/console"))
    assert "plain@example.org" in console and "None" not in console


def test_the_choice_page_says_several_organisations_only_when_there_are(app, world):
    client = app.test_client()
    sign_in(app, client, world["bruno"])  # one organisation
    page = text(client.get("/organisations/choix"))
    assert "plusieurs organisations" not in page and "une seule organisation" in page
    sign_in(app, client, world["claire"])  # two
    assert "plusieurs organisations" in text(client.get("/organisations/choix"))


def test_the_terms_box_links_to_the_terms(app):
    page = text(app.test_client().get("/organisations/inscription"))
    assert 'href="/terms"' in page
