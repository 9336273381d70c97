"""Account linking by the pivot identity (idp.services.identities) on a migrated database."""

from __future__ import annotations

import pytest

import idp
from idp.services.identities import AccountUnavailable, IdentityConflict, link_identity, pivot_claims
from idp.storage.sql.federation import IdentityStore
from idp.storage.sql.models import Account
from idp.upstream.base import UpstreamResult
from idp.upstream.pivot import map_claims
from shared.storage import Database

ANGELA = {"given_name": "Angela Claire Louise", "family_name": "DUBOIS", "birthdate": "1962-08-24",
          "gender": "female", "birthplace": "75107", "birthcountry": "99100", "email": "angela@example.fr",
          "email_verified": True}


@pytest.fixture
def db(tmp_sqlite_url):
    idp.upgrade_database(tmp_sqlite_url)
    database = Database(tmp_sqlite_url)
    yield database
    database.dispose()


def result(provider, sub, **claims):
    return UpstreamResult(provider=provider, subject=sub, identity=map_claims({**ANGELA, **claims}), acr="eidas1")


def link(db, res):
    with db.session() as session:
        return link_identity(IdentityStore(session), res)


def test_first_visit_creates_an_active_passwordless_account(db):
    linked = link(db, result("impots", "s1"))
    assert linked.created and linked.new_link
    with db.session() as session:
        account = session.get(Account, linked.account_id)
        assert account.status == "active" and account.password_hash is None and account.email_verified
        assert account.email.endswith("@federation.invalid")  # the real address never becomes a login key
        assert pivot_claims(IdentityStore(session), account.id, ["openid", "profile", "email", "birth"]) == ANGELA


def test_same_person_through_two_providers_is_one_account(db):
    first = link(db, result("impots", "s1"))
    second = link(db, result("ameli", "other-sub", given_name="ANGELA CLAIRE LOUISE", family_name="Dubois",
                             email="a.dubois@example.org"))
    assert second.account_id == first.account_id and not second.created and second.new_link
    again = link(db, result("ameli", "other-sub"))
    assert again.account_id == first.account_id and not again.new_link


def test_email_alone_does_not_link(db):
    first = link(db, result("impots", "s1"))
    namesake = link(db, result("ameli", "s2", given_name="Paul", gender="male"))  # same email, another person
    assert namesake.account_id != first.account_id and namesake.created


def test_a_provider_cannot_turn_an_account_into_someone_elses(db):
    link(db, result("impots", "s1"))
    link(db, result("ameli", "s2", given_name="Paul", gender="male"))
    with pytest.raises(IdentityConflict):
        link(db, result("ameli", "s2"))  # now claims to be Angela, who has her own account


def test_deactivated_account_cannot_sign_in(db):
    linked = link(db, result("impots", "s1"))
    with db.session() as session:
        session.get(Account, linked.account_id).status = "deactivated"
    with pytest.raises(AccountUnavailable):
        link(db, result("impots", "s1"))
