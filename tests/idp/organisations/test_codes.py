"""The legal representative's confirmation codes: right, wrong, expired, superseded, locked; the letter."""

from __future__ import annotations

import io
from datetime import timedelta

from pypdf import PdfReader

from idp.services import organisations as orgs
from idp.storage.sql.organisations import OrganisationStore
from idp.storage.sql.outbox import OutboxMessage
from shared.timeutil import utcnow
from tests.idp.organisations.conftest import CODE_URL, make_person, org_data


def register_admin(database, email="hugo@example.org", org=None):
    with database.session() as session:
        store = OrganisationStore(session)
        organisation = org or orgs.create_organisation(store, org_data("Mairie de Lièpvre", "216801803"))
        candidate = make_person(store, "Hugo", "Bernard", email)
        _membership, letter = orgs.join_organisation(store, candidate, organisation, "administrator", utcnow(), CODE_URL)
        return organisation, candidate, letter.request.reference, letter.codes


def membership(database, account, organisation):
    with database.session() as session:
        return OrganisationStore(session).membership_of(account.id, organisation.id)


def confirm(database, reference, code_1, code_2, now=None):
    with database.session() as session:
        return orgs.confirm_admin_request(OrganisationStore(session), reference, code_1, code_2, now or utcnow())


def test_letter_is_a_pdf_in_the_outbox_addressed_to_the_legal_representative(database):
    organisation, _candidate, reference, codes = register_admin(database)
    with database.session() as session:
        letters = session.query(OutboxMessage).filter_by(channel="letter").all()
    assert len(letters) == 1
    letter = letters[0]
    assert letter.recipient.splitlines()[0] == "Madame la Maire Anne FAURE"
    assert "Mairie de Lièpvre" in letter.recipient and "68160 LIÈPVRE" in letter.recipient
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(letter.attachment)).pages)
    assert reference in text and codes[0] in text and codes[1] in text
    assert CODE_URL in text
    assert membership(database, _candidate, organisation).status == "pending"


def test_right_codes_make_the_administrator_operational(database):
    organisation, candidate, reference, codes = register_admin(database)
    assert confirm(database, reference, codes[0].lower(), " " + codes[1]) is orgs.Confirmation.VALIDATED
    validated = membership(database, candidate, organisation)
    assert (validated.role, validated.status) == ("administrator", "active")
    assert confirm(database, reference, *codes) is orgs.Confirmation.ALREADY


def test_wrong_codes_are_refused_then_locked(database):
    organisation, candidate, reference, codes = register_admin(database)
    assert confirm(database, reference, codes[0], "WRONGONE") is orgs.Confirmation.WRONG
    assert confirm(database, reference, codes[1], codes[0]) is orgs.Confirmation.WRONG  # swapped
    for _ in range(orgs.MAX_CODE_ATTEMPTS - 3):
        assert confirm(database, reference, "AAAAAAAA", "BBBBBBBB") is orgs.Confirmation.WRONG
    assert confirm(database, reference, "AAAAAAAA", "BBBBBBBB") is orgs.Confirmation.LOCKED
    assert confirm(database, reference, *codes) is orgs.Confirmation.LOCKED
    assert membership(database, candidate, organisation).status == "pending"
    assert confirm(database, "ADM-NOPE00", *codes) is orgs.Confirmation.UNKNOWN


def test_expired_codes_are_refused(database):
    organisation, candidate, reference, codes = register_admin(database)
    later = utcnow() + orgs.CODE_VALIDITY + timedelta(minutes=1)
    assert confirm(database, reference, *codes, now=later) is orgs.Confirmation.EXPIRED
    assert membership(database, candidate, organisation).status == "pending"


def test_the_same_person_asking_again_after_the_period_replaces_her_own_request(database):
    organisation, first, first_reference, first_codes = register_admin(database)
    with database.session() as session:
        store = OrganisationStore(session)
        later = utcnow() + orgs.LetterLimits().period + timedelta(minutes=1)
        again = orgs.ask_to_administer(store, first.id, organisation.id, later, CODE_URL)
    assert confirm(database, first_reference, *first_codes) is orgs.Confirmation.SUPERSEDED
    assert membership(database, first, organisation).status == "pending"  # her own request: she keeps her place
    assert confirm(database, again.request.reference, *again.codes) is orgs.Confirmation.VALIDATED
    assert membership(database, first, organisation).role == "administrator"


def test_an_existing_user_becoming_administrator_replaces_the_old_one(database):
    organisation, old_admin, reference, codes = register_admin(database)
    confirm(database, reference, *codes)
    with database.session() as session:
        store = OrganisationStore(session)
        user = make_person(store, "Léa", "Muller", "lea@example.org")
        organisation = store.organisation(organisation.id)
        orgs.join_organisation(store, user, organisation, "user", utcnow(), CODE_URL)
        orgs.validate_member(store, old_admin.id, organisation.id, store.membership_of(user.id, organisation.id).id,
                             utcnow())
        after_the_period = utcnow() + orgs.LetterLimits().period + timedelta(minutes=1)  # one letter a period
        letter = orgs.request_administrator(store, store.account(user.id), organisation, after_the_period, CODE_URL)
    # until the legal representative confirms, the user stays a user and the old administrator stays
    assert membership(database, user, organisation).role == "user"
    assert confirm(database, letter.request.reference, *letter.codes) is orgs.Confirmation.VALIDATED
    assert membership(database, user, organisation).role == "administrator"
    assert membership(database, old_admin, organisation).role == "user"


def test_support_is_pointed_to_after_five_working_days(database):
    _organisation, candidate, _reference, _codes = register_admin(database)
    with database.session() as session:
        store = OrganisationStore(session)
        soon = orgs.my_admin_requests(store, candidate.id, utcnow() + timedelta(days=2))
        late = orgs.my_admin_requests(store, candidate.id, utcnow() + timedelta(days=8))
    assert soon[0]["point_to_support"] is False
    assert late[0]["point_to_support"] is True


def test_working_days_skip_weekends():
    from datetime import UTC, datetime

    friday = datetime(2026, 11, 20, 10, tzinfo=UTC)
    assert orgs.working_days_between(friday, datetime(2026, 11, 23, 9, tzinfo=UTC)) == 1  # Monday
    assert orgs.working_days_between(friday, datetime(2026, 11, 27, 9, tzinfo=UTC)) == 5
