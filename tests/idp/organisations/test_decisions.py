"""An organisation's decisions reach people and never cut an identity (seed 002; a membership is
not an account): "Invalider" behind a danger zone ends this membership and its grants only; the
person is told the true reason and the way back, in their language; every decision (registration
to validate, validation, grant, revocation, invalidation, handover asked and done, a candidate
not chosen) is an email in the outbox to the person it concerns."""

from __future__ import annotations

import re

import pytest

from idp.services import accounts, lifecycle, sessions
from idp.services import organisations as orgs
from idp.storage.sql.models import Account
from idp.storage.sql.organisations import OrganisationStore
from idp.storage.sql.outbox import OutboxMessage
from shared.timeutil import utcnow
from tests.idp.organisations.conftest import CODE_URL, choose, csrf, make_person, org_data, sign_in, text


def emails_to(app, address: str) -> list[OutboxMessage]:
    with app.extensions["db"].session() as session:
        return list(session.query(OutboxMessage).filter_by(channel="email", recipient=address)
                    .order_by(OutboxMessage.created_at))


def set_locale(app, account_id: str, locale: str) -> None:
    with app.extensions["db"].session() as session:
        session.get(Account, account_id).locale = locale


@pytest.fixture
def fred_granted(app, world):
    """Fred validated at the town hall with "état civil", and an active member of the association too."""
    with app.extensions["db"].session() as session:
        store = OrganisationStore(session)
        orgs.validate_member(store, world["claire"], world["town"], world["fred_m"], utcnow())
        orgs.grant(store, world["claire"], world["town"], world["fred_m"], "etat-civil")
        other, _ = orgs.join_organisation(store, store.account(world["fred"]), store.organisation(world["assoc"]),
                                          "user", utcnow(), CODE_URL)
        orgs.validate_member(store, world["bruno"], world["assoc"], other.id, utcnow())
        orgs.subscribe(store, world["bruno"], world["assoc"], "subventions")
        orgs.grant(store, world["bruno"], world["assoc"], other.id, "subventions")
    return world


def console_as_claire(app, client, world) -> str:
    sign_in(app, client, world["claire"])
    choose(client, world["town"])
    return csrf(client, "/organisations/console")


# -- finding 1: "Invalider" ends one membership, behind a danger zone -----------------------------

def test_invalider_first_shows_a_danger_zone_and_a_bare_post_changes_nothing(app, world):
    client = app.test_client()
    token = console_as_claire(app, client, world)
    console = text(client.get("/organisations/console"))
    assert f'href="/organisations/console/membres/{world["fred_m"]}/invalider"' in console  # a link, not a POST
    page = text(client.get(f"/organisations/console/membres/{world['fred_m']}/invalider"))
    assert "Zone de danger" in page and "Son compte n'est pas désactivé" in page and "fred@example.org" in page
    one_click = client.post(f"/organisations/console/membres/{world['fred_m']}/invalider", data={"csrf_token": token})
    assert one_click.status_code == 400 and "Cochez la case pour confirmer l'invalidation." in text(one_click)
    with app.extensions["db"].session() as session:
        assert OrganisationStore(session).membership(world["fred_m"]).status == "pending"


def test_invalidation_ends_this_membership_only_and_the_account_stays_usable(app, fred_granted):
    world = fred_granted
    with app.test_request_context():
        fred_session = sessions.create(world["fred"], ["pwd"])  # signed in elsewhere (eComms, say)
    client = app.test_client()
    token = console_as_claire(app, client, world)
    done = client.post(f"/organisations/console/membres/{world['fred_m']}/invalider",
                       data={"csrf_token": token, "confirm": "yes", "reason": "A quitté la mairie"})
    assert done.status_code == 302
    assert "son compte reste actif" in text(client.get("/organisations/console"))
    with app.app_context():
        assert accounts.get(world["fred"]).status == "active"
        assert sessions.load(fred_session.sid) is not None, "his sessions are not ended"
    with app.extensions["db"].session() as session:
        store = OrganisationStore(session)
        assert store.membership(world["fred_m"]).status == "invalidated"
        assert store.grants_of_membership(world["fred_m"]) == []
        other = store.membership_of(world["fred"], world["assoc"])
        assert other.status == "active" and [g.eservice_id for g in store.grants_of_membership(other.id)] == [
            "subventions"], "another organisation's membership and grants are untouched"


def test_invalidating_a_never_validated_registration_leaves_the_account_alone(app, world):
    client = app.test_client()
    token = console_as_claire(app, client, world)
    client.post(f"/organisations/console/membres/{world['fred_m']}/invalider",
                data={"csrf_token": token, "confirm": "yes"})
    with app.app_context():
        account = accounts.get(world["fred"])
        assert (account.status, account.deactivation_reason) == ("active", None)


def test_an_administrator_cannot_open_the_danger_zone_of_another_organisations_member(app, world):
    client = app.test_client()
    sign_in(app, client, world["bruno"])  # administrator of the association only
    assert client.get(f"/organisations/console/membres/{world['fred_m']}/invalider").status_code == 404


# -- finding 2: the true reason and the way back, in the person's language -------------------------

def test_the_invalidated_person_is_told_why_and_how_to_come_back_in_english(app, fred_granted):
    world = fred_granted
    set_locale(app, world["fred"], "en")
    client = app.test_client()
    token = console_as_claire(app, client, world)
    client.post(f"/organisations/console/membres/{world['fred_m']}/invalider",
                data={"csrf_token": token, "confirm": "yes", "reason": "secret motive"})
    (email,) = [m for m in emails_to(app, "fred@example.org") if "invalidated" in m.subject]
    assert email.locale == "en"
    assert "The administrator of “Mairie A” invalidated your registration" in email.body_text
    assert "Your account is not deactivated" in email.body_text
    assert "validate your registration again" in email.body_text
    assert "16" not in email.body_text and "secret motive" not in email.body_text
    sign_in(app, client, world["fred"])
    mine = text(client.get("/organisations/?lang=en"))
    assert "invalidated this registration" in mine and "Your account remains active" in mine


def test_an_account_deactivated_by_an_old_invalidation_is_told_the_true_reason(app, world):
    with app.extensions["db"].session() as session:
        account = session.get(Account, world["fred"])
        account.status, account.deactivation_reason = "deactivated", "invalidated_by_organisation"
    with app.test_request_context():
        from idp.flows.login import inactive_account_message

        message = inactive_account_message(accounts.get(world["fred"]))
    assert "a invalidé votre inscription" in message and "16 mois" not in message


# -- finding 5: every decision is told -----------------------------------------------------------

def test_validation_grant_and_revocation_are_emailed_to_the_member(app, world):
    client = app.test_client()
    token = console_as_claire(app, client, world)
    client.post(f"/organisations/console/membres/{world['fred_m']}/valider", data={"csrf_token": token})
    client.post(f"/organisations/console/membres/{world['fred_m']}/e-services",
                data={"csrf_token": token, "eservice_id": "etat-civil", "action": "grant"})
    client.post(f"/organisations/console/membres/{world['fred_m']}/e-services",
                data={"csrf_token": token, "eservice_id": "etat-civil", "action": "revoke"})
    subjects = [m.subject for m in emails_to(app, "fred@example.org")]
    assert subjects == ["Votre inscription à « Mairie A » est validée", "Nouvel e-service : « Actes d'état civil »",
                        "E-service retiré : « Actes d'état civil »"]


def test_the_administrators_hear_of_a_registration_once_the_address_is_proven(app, world):
    client = app.test_client()
    token = csrf(client, "/organisations/inscription")
    client.post("/organisations/inscription", data={
        "csrf_token": token, "role": "user", "organisation_id": world["town"], "given_name": "Paul",
        "family_name": "Schmitt", "email": "paul@example.org", "terms": "on"})
    assert [m for m in emails_to(app, "claire@example.org") if "paul-schmitt" in m.body_text] == []
    (token,) = [re.search(r"/activate/([\w-]+)", m.body_text).group(1) for m in emails_to(app, "paul@example.org")
                if "/activate/" in m.body_text]
    with app.test_request_context():
        lifecycle.activate(token, "Correct-Horse-1", "Correct-Horse-1")
    (notice,) = [m for m in emails_to(app, "claire@example.org") if "paul-schmitt" in m.body_text]
    assert "Une inscription à valider pour « Mairie A »" == notice.subject and "/organisations/console" in notice.body_text


def test_a_handover_is_told_to_the_sitting_administrator_then_to_both(app, world):
    with app.extensions["db"].session() as session:
        store = OrganisationStore(session)
        orgs.validate_member(store, world["claire"], world["town"], world["fred_m"], utcnow())
        letter = orgs.ask_to_administer(store, world["fred"], world["town"], utcnow(), CODE_URL)
        reference, codes = letter.request.reference, letter.codes
    (asked,) = [m for m in emails_to(app, "claire@example.org") if "changement d'administrateur" in m.subject]
    assert "frederic-dupont-dura" in asked.body_text and reference in asked.body_text
    with app.extensions["db"].session() as session:
        assert orgs.confirm_admin_request(OrganisationStore(session), reference, *codes, utcnow()).value == "validated"
    assert [m.subject for m in emails_to(app, "claire@example.org")][-1] == \
        "Vous n'êtes plus l'administrateur de « Mairie A »"
    assert [m.subject for m in emails_to(app, "fred@example.org")][-1] == "Vous êtes l'administrateur de « Mairie A »"
    client = app.test_client()  # the former administrator's console is closed at once (read from the memberships)
    sign_in(app, client, world["claire"])
    choose(client, world["town"])
    closed = client.get("/organisations/console")
    assert closed.status_code == 403
    assert "Vous n'êtes plus l'administrateur de « Mairie A » depuis le" in text(closed)
    assert "Administrateur actuel : Frédéric DUPONT DURAND (frederic-dupont-dura)" in text(closed)


def test_a_candidate_not_chosen_is_told(app):
    with app.extensions["db"].session() as session:
        store = OrganisationStore(session)
        town = orgs.create_organisation(store, org_data("Mairie D", "444444442"))
        first, second = make_person(store, "Anne", "Roth", "anne@example.org"), make_person(store, "Marc", "Roth", "marc@example.org")
        orgs.join_organisation(store, first, town, "administrator", utcnow(), CODE_URL,
                               orgs.LetterLimits(per_organisation=5))
        _m, letter = orgs.join_organisation(store, second, town, "administrator", utcnow(), CODE_URL,
                                            orgs.LetterLimits(per_organisation=5))
        reference, codes = letter.request.reference, letter.codes
    with app.extensions["db"].session() as session:
        orgs.confirm_admin_request(OrganisationStore(session), reference, *codes, utcnow())
    assert "a validé une autre demande d'administrateur" in emails_to(app, "anne@example.org")[-1].body_text


def test_an_administrator_who_grants_himself_gets_no_email(app, world):
    with app.extensions["db"].session() as session:
        store = OrganisationStore(session)
        orgs.grant(store, world["claire"], world["town"], store.membership_of(world["claire"], world["town"]).id,
                   "etat-civil")
    assert [m for m in emails_to(app, "claire@example.org") if "e-service" in m.subject] == []


def test_a_registration_from_an_activated_account_reaches_the_administrator_at_once(app, world):
    (notice,) = emails_to(app, "claire@example.org")  # the world's Frédéric registered at the town hall
    assert notice.subject == "Une inscription à valider pour « Mairie A »"
    assert "Frédéric DUPONT DURAND (frederic-dupont-dura)" in notice.body_text


# -- finding 4: "renouvelez votre inscription" sends a new activation link -------------------------

def register_paul(client, organisation_id: str, email: str = "paul@example.org"):
    return client.post("/organisations/inscription", data={
        "csrf_token": csrf(client, "/organisations/inscription"), "role": "user", "organisation_id": organisation_id,
        "given_name": "Paul", "family_name": "Schmitt", "email": email, "terms": "on"})


def activation_tokens(app, address: str) -> list[str]:
    return [re.search(r"/activate/([\w-]+)", m.body_text).group(1) for m in emails_to(app, address)
            if "/activate/" in m.body_text]


def test_registering_again_sends_a_new_activation_link_and_the_first_stops_working(app, world):
    client = app.test_client()
    first = register_paul(client, world["town"])
    again = register_paul(client, world["town"])
    assert first.status_code == again.status_code == 200
    first_token, new_token = activation_tokens(app, "paul@example.org")
    with app.test_request_context():
        with pytest.raises(lifecycle.LinkProblem):
            lifecycle.peek_link(first_token, "activation")
        lifecycle.peek_link(new_token, "activation")
    with app.extensions["db"].session() as session:
        assert session.query(Account).filter_by(email="paul@example.org").count() == 1


def test_registering_again_answers_as_for_any_address(app, world):
    client = app.test_client()
    register_paul(client, world["town"])
    again = text(register_paul(client, world["town"]))
    taken = text(register_paul(client, world["town"], email="fred@example.org"))  # an active account's
    fresh = text(register_paul(client, world["town"], email="new@example.org"))

    def answer(page: str) -> str:
        return re.sub(r'name="csrf_token" value="[^"]+"', "", page)

    assert answer(again) == answer(taken) == answer(fresh)
    assert "paul-schmitt" not in again


def test_registrations_for_one_address_are_throttled_whichever_form(app, world):
    client = app.test_client()
    answers = [register_paul(client, world["town"]).status_code for _ in range(4)]
    assert answers == [200, 200, 200, 429]
    assert "Trop de demandes pour cette adresse" in text(register_paul(client, world["town"]))
    assert len(activation_tokens(app, "paul@example.org")) == 3


def test_accounts_deactivated_by_an_old_invalidation_come_back_with_the_migration(tmp_sqlite_url):
    import sqlalchemy

    import idp
    from shared.storage import upgrade_database

    upgrade_database(tmp_sqlite_url, idp.MIGRATIONS, "alembic_version_idp", revision="0011_no_pending_password")
    engine = sqlalchemy.create_engine(tmp_sqlite_url)
    with engine.begin() as connection:
        for row_id, password_hash in (("a1", "$argon2id$x"), ("a2", None)):
            connection.execute(sqlalchemy.text(
                "INSERT INTO accounts (id, email, password_hash, status, deactivation_reason, email_verified, "
                "roles, locale, created_at) VALUES (:id, :email, :hash, 'deactivated', "
                "'invalidated_by_organisation', 1, '[]', 'fr', '2026-01-01 00:00:00')"),
                {"id": row_id, "email": f"{row_id}@example.org", "hash": password_hash})
    idp.upgrade_database(tmp_sqlite_url)
    with engine.begin() as connection:
        rows = dict(connection.execute(sqlalchemy.text("SELECT id, status FROM accounts")).all())
    engine.dispose()
    assert rows == {"a1": "active", "a2": "pending"}


# -- "Résilier" never in one click, and its members are told ---------------------------------------

def test_ending_a_subscription_shows_whose_permission_ends_then_tells_them(app, fred_granted):
    world = fred_granted
    client = app.test_client()
    token = console_as_claire(app, client, world)
    assert 'href="/organisations/console/abonnements/etat-civil/resilier"' in text(client.get("/organisations/console"))
    page = text(client.get("/organisations/console/abonnements/etat-civil/resilier"))
    assert "Zone de danger" in page and "Frédéric DUPONT DURAND (frederic-dupont-dura)" in page
    one_click = client.post("/organisations/console/abonnements",
                            data={"csrf_token": token, "eservice_id": "etat-civil", "action": "unsubscribe"})
    assert one_click.status_code == 400 and "Cochez la case pour confirmer la résiliation." in text(one_click)
    with app.extensions["db"].session() as session:
        assert OrganisationStore(session).subscription(world["town"], "etat-civil") is not None
    client.post("/organisations/console/abonnements",
                data={"csrf_token": token, "eservice_id": "etat-civil", "action": "unsubscribe", "confirm": "yes"})
    with app.extensions["db"].session() as session:
        assert OrganisationStore(session).subscription(world["town"], "etat-civil") is None
    (notice,) = [m for m in emails_to(app, "fred@example.org") if m.subject == "E-service retiré : « Actes d'état civil »"]
    assert "a résilié son abonnement" in notice.body_text


# -- the console's history: who decided what, when, and why ----------------------------------------

def test_the_console_shows_who_decided_what_with_the_reason_for_this_organisation_only(app, fred_granted):
    world = fred_granted
    client = app.test_client()
    token = console_as_claire(app, client, world)
    client.post(f"/organisations/console/membres/{world['fred_m']}/invalider",
                data={"csrf_token": token, "confirm": "yes", "reason": "A quitté la mairie"})
    console = text(client.get("/organisations/console"))
    history = console.split('id="historique"')[1]
    assert "Inscription invalidée" in history and "motif : A quitté la mairie" in history
    assert "Permission accordée" in history and "Actes d'état civil" in history
    assert "Claire Martin (claire-martin)" in history and "Frédéric DUPONT DURAND (frederic-dupont-dura)" in history
    assert "Demandes de subvention" not in history, "the association's decisions stay the association's"
    assert "Dernière connexion" in console or "Jamais connecté(e)" in console


def test_a_subscription_decision_concerns_the_organisation_and_says_so_in_the_member_column(app, fred_granted):
    world = fred_granted
    client = app.test_client()
    console_as_claire(app, client, world)
    history = text(client.get("/organisations/console")).split('id="historique"')[1]
    rows = re.findall(r"<tr>(.*?)</tr>", history, re.S)
    (subscribed,) = [row for row in rows if "Actes d'état civil" in row and "Permission accordée" not in row]
    cells = re.findall(r'<td data-label="([^"]+)">(.*?)</td>', subscribed, re.S)
    member = dict(cells)["Membre"]
    assert member == ('<span aria-hidden="true">—</span>'
                      '<span class="visually-hidden">la décision concerne l\'organisation</span>'), subscribed
    (granted,) = [row for row in rows if "Permission accordée" in row]
    assert "Frédéric DUPONT DURAND (frederic-dupont-dura)" in dict(re.findall(
        r'<td data-label="([^"]+)">(.*?)</td>', granted, re.S))["Membre"], "a member's decision still names them"
