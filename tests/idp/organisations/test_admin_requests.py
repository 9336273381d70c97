"""Administrator requests cannot be used to post letters at will or to push a candidate aside:
only an activated, signed-in account makes one; one letter per organisation and per requester
in a period (config/idp.toml); a request never cancels another person's silently — the legal
representative chooses by the codes he types, and both candidates are told by email."""

from __future__ import annotations

from datetime import timedelta

import pytest

from idp.services import organisations as orgs
from idp.storage.sql.organisations import AdminRequest, Membership, OrganisationStore
from idp.storage.sql.outbox import OutboxMessage
from shared.timeutil import to_strasbourg, utcnow
from tests.idp.organisations.conftest import CODE_URL, csrf, make_person, org_data, sign_in, text

PERIOD = orgs.LetterLimits().period


@pytest.fixture
def town(app):
    """A town hall whose first candidate, Anne (activated), has asked: one letter is out."""
    with app.extensions["db"].session() as session:
        store = OrganisationStore(session)
        organisation = orgs.create_organisation(store, org_data("Mairie de Lièpvre", "216801803"))
        anne = make_person(store, "Anne", "FAURE", "anne@example.org")
        eve = make_person(store, "Eve", "MARTIN", "eve@example.org")
        zoe = make_person(store, "Zoé", "KLEIN", "zoe@example.org")
        _m, letter = orgs.join_organisation(store, anne, organisation, "administrator", utcnow(), CODE_URL)
        return {"org": organisation.id, "anne": anne.id, "eve": eve.id, "zoe": zoe.id,
                "anne_ref": letter.request.reference, "anne_codes": letter.codes}


def letters(app) -> list[OutboxMessage]:
    with app.extensions["db"].session() as session:
        return list(session.query(OutboxMessage).filter_by(channel="letter"))


def emails_to(app, address: str) -> list[str]:
    with app.extensions["db"].session() as session:
        return [m.body_text for m in session.query(OutboxMessage).filter_by(channel="email", recipient=address)]


def requests_of(app, organisation_id: str) -> dict[str, str]:
    with app.extensions["db"].session() as session:
        return {r.reference: r.status for r in session.query(AdminRequest).filter_by(organisation_id=organisation_id)}


def test_a_registration_without_an_activated_account_posts_no_letter(app, town):
    """The reproduction: unauthenticated 'administrator' registrations for an existing organisation."""
    client = app.test_client()
    for n in range(3):
        answer = client.post("/organisations/inscription", data={
            "csrf_token": csrf(client, "/organisations/inscription"), "role": "administrator",
            "organisation_id": town["org"], "given_name": "Mallory", "family_name": f"N{n}",
            "email": f"mallory{n}@example.org", "password": "Sup3rSecret", "password_confirm": "Sup3rSecret",
            "terms": "on"})
        assert answer.status_code == 200
    assert len(letters(app)) == 1  # Anne's only
    assert requests_of(app, town["org"]) == {town["anne_ref"]: "pending"}
    with app.extensions["db"].session() as session:  # and the service itself refuses a pending account
        store = OrganisationStore(session)
        pending = store.account_by_email("mallory0@example.org")
        assert pending.status == "pending"
        with pytest.raises(orgs.NotAllowed):
            orgs.request_administrator(store, pending, store.organisation(town["org"]), utcnow() + 2 * PERIOD,
                                       CODE_URL)


@pytest.mark.parametrize(("lang", "expected"), [
    ("fr", "Une nouvelle demande d'administrateur pourra être faite à partir du"),
    ("en", "A new administrator request can be made from")])
def test_one_letter_per_organisation_per_period_and_the_person_is_told_when(app, town, lang, expected):
    client = app.test_client()
    client.set_cookie("lang", lang)
    sign_in(app, client, town["eve"])
    answer = client.post("/organisations/inscription", data={
        "csrf_token": csrf(client, "/organisations/inscription"), "role": "administrator",
        "organisation_id": town["org"], "terms": "on"})
    assert answer.status_code == 400
    page = text(answer)
    assert expected in page and to_strasbourg(utcnow() + PERIOD).strftime("%d/%m/%Y") in page  # the Court's date
    assert len(letters(app)) == 1
    assert requests_of(app, town["org"]) == {town["anne_ref"]: "pending"}  # Anne's request untouched
    with app.extensions["db"].session() as session:
        assert session.query(Membership).filter_by(account_id=town["eve"]).count() == 0  # nothing half-written


def test_three_signed_in_requests_in_one_second_post_one_letter(app, town):
    with app.extensions["db"].session() as session:
        store = OrganisationStore(session)
        for key in ("eve", "zoe"):
            orgs.join_organisation(store, store.account(town[key]), store.organisation(town["org"]), "user",
                                   utcnow(), CODE_URL)
            store.membership_of(town[key], town["org"]).status = "active"
    for key in ("eve", "zoe", "eve"):
        client = app.test_client()
        sign_in(app, client, town[key])
        answer = client.post(f"/organisations/{town['org']}/administrateur",
                             data={"csrf_token": csrf(client, "/organisations/")}, follow_redirects=True)
        assert "Un courrier a déjà été envoyé récemment au représentant légal" in text(answer)
    assert len(letters(app)) == 1


def test_one_letter_per_requester_per_period(app, town):
    with app.extensions["db"].session() as session:
        store = OrganisationStore(session)
        other = orgs.create_organisation(store, org_data("Association B", "222222226", "association"))
        with pytest.raises(orgs.LetterTooSoon) as refused:
            orgs.join_organisation(store, store.account(town["anne"]), other, "administrator", utcnow(), CODE_URL)
        assert refused.value.reason == "requester"
        assert refused.value.next_allowed > utcnow() + PERIOD - timedelta(minutes=1)


def test_the_period_and_counts_come_from_the_configuration():
    limits = orgs.LetterLimits.configured()  # config/idp.toml [organisations]
    assert (limits.period, limits.per_organisation, limits.per_requester) == (timedelta(days=7), 1, 1)


def test_a_later_request_keeps_the_first_and_the_legal_representative_chooses(app, town):
    later = utcnow() + PERIOD + timedelta(minutes=1)
    with app.extensions["db"].session() as session:
        store = OrganisationStore(session)
        eve_letter = orgs.join_organisation(store, store.account(town["eve"]), store.organisation(town["org"]),
                                            "administrator", later, CODE_URL)[1]
        eve_ref, eve_codes = eve_letter.request.reference, eve_letter.codes
    # Anne's request is not cancelled; the new letter says there are two, each with its own codes
    assert requests_of(app, town["org"]) == {town["anne_ref"]: "pending", eve_ref: "pending"}
    assert f"Autre demande en attente : {town['anne_ref']}" in letters(app)[-1].body_text
    # both are told by email, in their words, without each other's names
    (to_anne,) = emails_to(app, "anne@example.org")
    assert "Une autre personne a demandé" in to_anne and f"Votre demande {town['anne_ref']} reste en attente" in to_anne
    assert "Eve" not in to_anne and "MARTIN" not in to_anne
    (to_eve,) = emails_to(app, "eve@example.org")
    assert town["anne_ref"] in to_eve and "elles ne sont pas annulées" in to_eve
    # the legal representative types Anne's codes: she is the administrator, Eve's request closes and Eve is told
    with app.extensions["db"].session() as session:
        store = OrganisationStore(session)
        assert orgs.confirm_admin_request(store, town["anne_ref"], *town["anne_codes"], later) \
            is orgs.Confirmation.VALIDATED
    assert requests_of(app, town["org"]) == {town["anne_ref"]: "validated", eve_ref: "superseded"}
    assert any("a validé une autre demande d'administrateur" in body for body in emails_to(app, "eve@example.org"))
    with app.extensions["db"].session() as session:
        store = OrganisationStore(session)
        assert orgs.confirm_admin_request(store, eve_ref, *eve_codes, later) is orgs.Confirmation.SUPERSEDED
        assert store.membership_of(town["anne"], town["org"]).role == "administrator"
