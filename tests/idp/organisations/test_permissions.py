"""Delegated permissions at the service level: what an administrator may do, and only in his organisation."""

from __future__ import annotations

import pytest

from idp.services import organisations as orgs
from idp.services import permissions
from idp.storage.sql.organisations import OrganisationStore
from shared.timeutil import utcnow
from tests.idp.organisations.conftest import CODE_URL, make_admin, make_person, org_data


@pytest.fixture
def world(database):
    with database.session() as session:
        store = OrganisationStore(session)
        town = orgs.create_organisation(store, org_data("Mairie A", "111111118"))
        other = orgs.create_organisation(store, org_data("Mairie B", "222222226"))
        admin = make_person(store, "Claire", "Martin", "claire@example.org")
        admin_b = make_person(store, "Bruno", "Klein", "bruno@example.org")
        user = make_person(store, "Frédéric", "DUPONT DURAND", "fred@example.org")
        make_admin(store, admin, town)
        make_admin(store, admin_b, other)
        membership, _ = orgs.join_organisation(store, user, town, "user", utcnow(), CODE_URL)
        ids = dict(town=town.id, other=other.id, admin=admin.id, admin_b=admin_b.id, user=user.id,
                   user_m=membership.id, admin_m=store.membership_of(admin.id, town.id).id)
    return database, ids


def run(database, fn, *args):
    with database.session() as session:
        return fn(OrganisationStore(session), *args)


def test_administrator_has_no_permission_by_default_and_grants_himself(world):
    database, ids = world
    run(database, orgs.subscribe, ids["admin"], ids["town"], "etat-civil")
    assert run(database, permissions.granted_eservices, ids["admin"], ids["town"]) == []
    run(database, orgs.grant, ids["admin"], ids["town"], ids["admin_m"], "etat-civil")
    assert run(database, permissions.granted_eservices, ids["admin"], ids["town"]) == ["etat-civil"]


def test_pending_user_is_validated_then_granted_then_revoked(world):
    database, ids = world
    run(database, orgs.subscribe, ids["admin"], ids["town"], "etat-civil")
    with pytest.raises(permissions.NotAllowed):
        run(database, orgs.grant, ids["admin"], ids["town"], ids["user_m"], "etat-civil")
    run(database, orgs.validate_member, ids["admin"], ids["town"], ids["user_m"], utcnow())
    with pytest.raises(permissions.NotAllowed):  # not subscribed
        run(database, orgs.grant, ids["admin"], ids["town"], ids["user_m"], "urbanisme")
    run(database, orgs.grant, ids["admin"], ids["town"], ids["user_m"], "etat-civil")
    assert run(database, permissions.may_use, ids["user"], ids["town"], "etat-civil")
    context = run(database, permissions.organisation_context, ids["user"], ids["town"])
    assert context == {"org": {"id": ids["town"], "name": "Mairie A"}, "org_role": "user",
                       "eservices": ["etat-civil"]}
    run(database, orgs.revoke, ids["admin"], ids["town"], ids["user_m"], "etat-civil")
    assert not run(database, permissions.may_use, ids["user"], ids["town"], "etat-civil")


def test_unsubscribing_removes_the_grants(world):
    database, ids = world
    run(database, orgs.subscribe, ids["admin"], ids["town"], "etat-civil")
    run(database, orgs.grant, ids["admin"], ids["town"], ids["admin_m"], "etat-civil")
    run(database, orgs.unsubscribe, ids["admin"], ids["town"], "etat-civil")
    assert run(database, permissions.granted_eservices, ids["admin"], ids["town"]) == []


def test_eservice_offered_only_to_some_kinds(world):
    database, ids = world
    with pytest.raises(permissions.NotFound):
        run(database, orgs.subscribe, ids["admin"], ids["town"], "no-such-service")


def test_invalidation_removes_the_grants(world):
    database, ids = world
    run(database, orgs.subscribe, ids["admin"], ids["town"], "etat-civil")
    run(database, orgs.validate_member, ids["admin"], ids["town"], ids["user_m"], utcnow())
    run(database, orgs.grant, ids["admin"], ids["town"], ids["user_m"], "etat-civil")
    run(database, orgs.invalidate_member, ids["admin"], ids["town"], ids["user_m"], utcnow())
    membership = run(database, lambda store: store.membership(ids["user_m"]))
    assert membership.status == "invalidated"
    assert run(database, lambda store: store.grants_of_membership(ids["user_m"])) == []
    assert not run(database, permissions.may_use, ids["user"], ids["town"], "etat-civil")
    # (the account's deactivation is tested through the console: tests/idp/organisations/test_pages.py)


def test_invalidation_keeps_an_account_active_elsewhere(world):
    database, ids = world
    with database.session() as session:
        store = OrganisationStore(session)
        membership, _ = orgs.join_organisation(store, store.account(ids["user"]), store.organisation(ids["other"]),
                                               "user", utcnow(), CODE_URL)
        orgs.validate_member(store, ids["admin_b"], ids["other"], membership.id, utcnow())
    with database.session() as session:
        store = OrganisationStore(session)
        orgs.invalidate_member(store, ids["admin"], ids["town"], ids["user_m"], utcnow())
        assert store.after_commit == []  # no deactivation asked
        assert store.account(ids["user"]).status == "active"
    assert run(database, permissions.active_organisations, ids["user"]) == [
        {"id": ids["other"], "name": "Mairie B", "role": "user"}]


@pytest.mark.parametrize("action", ["console", "validate", "invalidate", "subscribe", "unsubscribe", "grant", "revoke"])
def test_an_administrator_cannot_touch_another_organisation(world, action):
    database, ids = world
    run(database, orgs.subscribe, ids["admin"], ids["town"], "etat-civil")
    calls = {
        "console": lambda s: orgs.console(s, ids["admin_b"], ids["town"]),
        "validate": lambda s: orgs.validate_member(s, ids["admin_b"], ids["town"], ids["user_m"], utcnow()),
        "invalidate": lambda s: orgs.invalidate_member(s, ids["admin_b"], ids["town"], ids["user_m"], utcnow()),
        "subscribe": lambda s: orgs.subscribe(s, ids["admin_b"], ids["town"], "subventions"),
        "unsubscribe": lambda s: orgs.unsubscribe(s, ids["admin_b"], ids["town"], "etat-civil"),
        "grant": lambda s: orgs.grant(s, ids["admin_b"], ids["town"], ids["user_m"], "etat-civil"),
        "revoke": lambda s: orgs.revoke(s, ids["admin_b"], ids["town"], ids["user_m"], "etat-civil"),
    }
    with pytest.raises(permissions.NotAllowed):
        run(database, calls[action])
    # acting in his own organisation on a member of the other one: not found
    if action in ("validate", "invalidate", "grant", "revoke"):
        other_calls = {
            "validate": lambda s: orgs.validate_member(s, ids["admin_b"], ids["other"], ids["user_m"], utcnow()),
            "invalidate": lambda s: orgs.invalidate_member(s, ids["admin_b"], ids["other"], ids["user_m"], utcnow()),
            "grant": lambda s: orgs.grant(s, ids["admin_b"], ids["other"], ids["user_m"], "etat-civil"),
            "revoke": lambda s: orgs.revoke(s, ids["admin_b"], ids["other"], ids["user_m"], "etat-civil"),
        }
        with pytest.raises(permissions.NotFound):
            run(database, other_calls[action])


def test_seed_demo_is_idempotent(tmp_sqlite_url):
    import idp

    idp.upgrade_database(tmp_sqlite_url)
    lines = orgs.seed_demo(tmp_sqlite_url)
    assert any("claire.martin@example.org" in line for line in lines)
    assert "already" in orgs.seed_demo(tmp_sqlite_url)[0]
