"""The registration form's rules (seed 002): required fields, terms, password rules, no enumeration."""

from __future__ import annotations

from idp.flows import org_registration as flow
from idp.services import organisations as orgs
from idp.storage.sql.models import Account
from idp.storage.sql.organisations import Membership, OrganisationStore
from idp.storage.sql.outbox import OutboxMessage
from shared.timeutil import utcnow
from tests.idp.organisations.conftest import CODE_URL, org_data

PERSON = {"given_name": "Frédéric", "family_name": "DUPONT DURAND", "email": "Fred@Example.org", "terms": "on"}


def submit(database, form, signed_in=None):
    with database.session() as session:
        return flow.submit(OrganisationStore(session), form, signed_in, CODE_URL)


def test_every_required_field_and_the_terms_are_checked(database):
    result = submit(database, {})
    assert result.state is flow.State.FORM
    assert set(result.errors) == {"role", "organisation_id", "given_name", "family_name", "email", "terms"}
    with database.session() as session:
        assert session.query(Account).count() == 0


def test_the_new_account_holds_no_password_before_its_address_is_proven(database):
    """Account pre-hijacking (docs/threat-model.md): a password typed here, by whoever, is not kept;
    the owner chooses hers on the activation link's page."""
    result = submit(database, {**PERSON, "role": "administrator", "organisation_id": "new",
                               **org_data("Mairie", "123456782"), "password": "Sup3rSecret"})
    assert result.state is flow.State.AWAITING_ACTIVATION
    with database.session() as session:
        assert session.query(Account).one().password_hash is None


def test_a_user_cannot_create_an_organisation(database):
    result = submit(database, {**PERSON, "role": "user", "organisation_id": "new", **org_data("Mairie", "123456782")})
    assert result.errors == {"organisation_id": "new_needs_administrator"}


def test_new_administrator_creates_account_and_organisation_and_the_letter_waits_for_activation(database):
    result = submit(database, {**PERSON, "role": "administrator", "organisation_id": "new",
                               **org_data("Mairie de Lièpvre", "216801803")})
    assert result.errors == {} and result.state is flow.State.AWAITING_ACTIVATION and not result.letter_sent
    with database.session() as session:
        account = session.query(Account).one()
        assert (account.email, account.username) == ("fred@example.org", "frederic-dupont-dura")
        membership = session.query(Membership).one()
        assert (membership.role, membership.status) == ("administrator", "pending")
        assert session.query(OutboxMessage).filter_by(channel="letter").count() == 0
        account.status = "active"  # the activation link was used; signed in, she sends the request
        orgs.ask_to_administer(OrganisationStore(session), account.id, membership.organisation_id, utcnow(), CODE_URL)
    with database.session() as session:
        assert session.query(OutboxMessage).filter_by(channel="letter").count() == 1


def test_an_existing_address_gets_the_same_answer_and_nothing_is_created(database):
    first = submit(database, {**PERSON, "role": "administrator", "organisation_id": "new",
                              **org_data("Mairie de Lièpvre", "216801803")})
    with database.session() as session:
        organisation_id = session.query(Membership).one().organisation_id
    again = submit(database, {**PERSON, "role": "user", "organisation_id": organisation_id})
    assert again.state is flow.State.AWAITING_ACTIVATION or again.state is first.state
    assert again.username is None
    with database.session() as session:
        assert session.query(Account).count() == 1
        assert session.query(Membership).count() == 1


def test_signed_in_person_only_chooses_organisation_and_role(database):
    submit(database, {**PERSON, "role": "administrator", "organisation_id": "new",
                      **org_data("Mairie de Lièpvre", "216801803")})
    with database.session() as session:
        account_id = session.query(Account).one().id
        org_id = session.query(Membership).one().organisation_id
        other = OrganisationStore(session)
        from idp.services.organisations import create_organisation

        second = create_organisation(other, org_data("Association", "987654324", "association")).id
    result = submit(database, {"role": "user", "organisation_id": second, "terms": "on"}, signed_in=account_id)
    assert result.state is flow.State.AWAITING_ADMINISTRATOR
    with database.session() as session:
        assert {m.organisation_id for m in session.query(Membership)} == {org_id, second}


def test_a_look_alike_organisation_without_siren_is_routed_to_the_existing_one(database):
    from idp.storage.sql.organisations import Organisation

    first = {**org_data("Mairie de Lièpvre", ""), "org_postcode": "68660"}
    assert submit(database, {**PERSON, "role": "administrator", "organisation_id": "new", **first}).errors == {}
    twin = {**first, "org_name": "MAIRIE  DE LIEPVRE", "email": "other@example.org"}
    form = {**PERSON, "email": "other@example.org", "role": "administrator", "organisation_id": "new", **twin}
    result = submit(database, form)
    assert result.errors == {"org_name": "exists"}
    with database.session() as session:
        (existing,) = session.query(Organisation).all()
        assert form["organisation_id"] == existing.id  # offered, pre-selected, in the list
    elsewhere = {**twin, "org_postcode": "68160"}  # the same name in another town is another organisation
    assert submit(database, {**form, **elsewhere, "organisation_id": "new"}).errors == {}
