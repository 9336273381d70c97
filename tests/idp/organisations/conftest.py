"""A migrated IdP database per test (SQLite file), and helpers to make people and organisations."""

from __future__ import annotations

import pytest

import idp
from idp.services import organisations as orgs
from idp.storage.sql.models import Account
from idp.storage.sql.organisations import Membership, OrganisationStore
from shared.storage import Database
from shared.timeutil import utcnow

CODE_URL = "http://localhost:8003/representant-legal"


@pytest.fixture
def database(tmp_sqlite_url):
    idp.upgrade_database(tmp_sqlite_url)
    database = Database(tmp_sqlite_url)
    yield database
    database.dispose()


def org_data(name: str, siren: str, kind: str = "commune") -> dict[str, str]:
    return {"org_name": name, "org_kind": kind, "org_siren": siren, "org_address_line": "1 place de la Mairie",
            "org_postcode": "68160", "org_city": "Lièpvre", "legal_rep_name": "Anne FAURE",
            "legal_rep_title": "Madame la Maire"}


def make_person(store: OrganisationStore, given: str, family: str, email: str) -> Account:
    account = orgs.new_person_account(store, given, family, email, password_hash="x")
    account.status = "active"
    return account


def make_admin(store: OrganisationStore, account: Account, organisation) -> Membership:
    membership = Membership(account_id=account.id, organisation_id=organisation.id, role="administrator",
                            status="active", decided_at=utcnow())
    store.add(membership)
    return membership
