"""A migrated IdP database per test (SQLite file), and helpers to make people and organisations;
an IdP app on it with a small world (two organisations, administrators, a pending user) and
helpers to act through its pages signed in."""

from __future__ import annotations

import html
import re

import pytest

import idp
from idp.services import organisations as orgs
from idp.services import sessions
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


@pytest.fixture
def app(tmp_sqlite_url):
    idp.upgrade_database(tmp_sqlite_url)
    app = idp.create_app({"database_url": tmp_sqlite_url, "_quiet": True})
    app.config.update(TESTING=True)
    yield app
    app.extensions["db"].dispose()


@pytest.fixture
def world(app):
    with app.extensions["db"].session() as session:
        store = OrganisationStore(session)
        town = orgs.create_organisation(store, org_data("Mairie A", "111111118"))
        assoc = orgs.create_organisation(store, org_data("Association B", "222222226", "association"))
        claire = make_person(store, "Claire", "Martin", "claire@example.org")  # administrator of both
        bruno = make_person(store, "Bruno", "Klein", "bruno@example.org")  # administrator of B only
        fred = make_person(store, "Frédéric", "DUPONT DURAND", "fred@example.org")
        make_admin(store, claire, town)
        make_admin(store, claire, assoc)
        make_admin(store, bruno, assoc)
        fred_m, _ = orgs.join_organisation(store, fred, town, "user", utcnow(), CODE_URL)
        orgs.subscribe(store, claire.id, town.id, "etat-civil")
        return {"town": town.id, "assoc": assoc.id, "claire": claire.id, "bruno": bruno.id, "fred": fred.id,
                "fred_m": fred_m.id}


def sign_in(app, client, account_id: str) -> str:
    with app.test_request_context():
        record = sessions.create(account_id, ["pwd"])
    client.set_cookie(sessions.COOKIE, record.cookie_secret)
    return record.sid


def text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def csrf(client, path: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', text(client.get(path))).group(1)


def choose(client, organisation_id: str):
    token = csrf(client, "/organisations/choix")
    return client.post("/organisations/choix", data={"csrf_token": token, "organisation_id": organisation_id})
