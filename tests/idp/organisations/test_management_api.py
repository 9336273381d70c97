"""The management API: bearer tokens with scope 'management', a person's token acting only where he
is administrator (cross-organisation matrix), client tokens limited to the permission check and
the legal representative's codes, revocations visible at the next check."""

from __future__ import annotations

import base64

import pytest

from idp.oidc import tokens
from idp.oidc.claims import pairwise_sub
from idp.services import clients, sessions
from idp.services import organisations as orgs
from idp.storage.sql.organisations import OrganisationStore
from shared.authorization import model
from shared.timeutil import utcnow
from tests.idp.organisations.conftest import CODE_URL, make_person, org_data

SCOPE = "openid organisation management"


@pytest.fixture
def portal(app):  # noqa: F811
    with app.app_context():
        client, secret = clients.create("Portail test", ["http://portal.test/callback"], scope=SCOPE,
                                        client_id="eservices",  # the management API's client (config/authorization.toml)
                                        grant_types=["authorization_code", "refresh_token", "client_credentials"])
    return client, secret


def person_token(app, account_id: str, client, scope: str = SCOPE) -> str:  # noqa: F811
    with app.test_request_context():
        record = sessions.create(account_id, ["pwd"])
        audience = [client.client_id, *model().audiences(scope.split())]  # as the IdP issues it
        token, _ = tokens.access_token(pairwise_sub(account_id, client), client, scope, "gid-test",
                                       {"sid": record.sid}, audience)
    return token


def client_token(app, portal) -> str:  # noqa: F811
    client, secret = portal
    basic = base64.b64encode(f"{client.client_id}:{secret}".encode()).decode()
    response = app.test_client().post("/token", data={"grant_type": "client_credentials", "scope": "management"},
                                      headers={"Authorization": f"Basic {basic}"})
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()["access_token"]


def call(app, method, path, token, **kwargs):  # noqa: F811
    return app.test_client().open(path, method=method, headers={"Authorization": f"Bearer {token}"}, **kwargs)


def test_no_token_no_answer(app, world):  # noqa: F811
    response = app.test_client().get(f"/api/management/organisations/{world['town']}/members")
    assert response.status_code == 401


def test_token_without_management_scope_is_refused(app, world, portal):  # noqa: F811
    token = person_token(app, world["claire"], portal[0], scope="openid organisation")
    refused = call(app, "GET", f"/api/management/organisations/{world['town']}/members", token)
    assert refused.status_code == 401 and refused.get_json()["error"] == "invalid_token"  # not made for this API


def test_administrator_manages_his_organisation(app, world, portal):  # noqa: F811
    token = person_token(app, world["claire"], portal[0])
    base = f"/api/management/organisations/{world['town']}"
    members = call(app, "GET", f"{base}/members", token).get_json()["members"]
    assert {m["email"] for m in members} == {"claire@example.org", "fred@example.org"}
    assert call(app, "POST", f"{base}/members/{world['fred_m']}/validate", token).get_json()["status"] == "active"
    granted = call(app, "PUT", f"{base}/members/{world['fred_m']}/grants/etat-civil", token).get_json()
    assert granted["eservices"] == ["etat-civil"]
    assert call(app, "PUT", f"{base}/subscriptions/subventions", token).get_json()["subscriptions"] == [
        "etat-civil", "subventions"]
    fred_token = person_token(app, world["fred"], portal[0])
    check = call(app, "GET", f"/api/management/permissions?org={world['town']}&eservice=etat-civil", fred_token)
    assert (check.get_json()["allowed"], check.get_json()["org_role"]) == (True, "user")
    call(app, "DELETE", f"{base}/members/{world['fred_m']}/grants/etat-civil", token)
    check = call(app, "GET", f"/api/management/permissions?org={world['town']}&eservice=etat-civil", fred_token)
    assert check.get_json()["allowed"] is False  # the next check after the revocation


CROSS = [
    ("GET", "/organisations/{town}/members"),
    ("GET", "/organisations/{town}/subscriptions"),
    ("PUT", "/organisations/{town}/subscriptions/subventions"),
    ("DELETE", "/organisations/{town}/subscriptions/etat-civil"),
    ("POST", "/organisations/{town}/members/{fred_m}/validate"),
    ("POST", "/organisations/{town}/members/{fred_m}/invalidate"),
    ("PUT", "/organisations/{town}/members/{fred_m}/grants/etat-civil"),
    ("DELETE", "/organisations/{town}/members/{fred_m}/grants/etat-civil"),
]


@pytest.mark.parametrize(("method", "path"), CROSS)
def test_an_administrator_of_another_organisation_is_refused(app, world, portal, method, path):  # noqa: F811
    token = person_token(app, world["bruno"], portal[0])
    response = call(app, method, "/api/management" + path.format(**world), token)
    assert response.status_code == 403
    # through his own organisation's path, another organisation's member is not found
    if "{fred_m}" in path:
        own = path.replace("{town}", "{assoc}")
        assert call(app, method, "/api/management" + own.format(**world), token).status_code == 404
    with app.extensions["db"].session() as session:
        store = OrganisationStore(session)
        assert store.membership(world["fred_m"]).status == "pending"
        assert [s.eservice_id for s in store.subscriptions(world["town"])] == ["etat-civil"]


@pytest.mark.parametrize(("method", "path"), CROSS)
def test_a_client_token_cannot_manage(app, world, portal, method, path):  # noqa: F811
    token = client_token(app, portal)
    assert call(app, method, "/api/management" + path.format(**world), token).status_code == 403


def test_client_checks_permissions_by_pairwise_subject(app, world, portal):  # noqa: F811
    token = client_token(app, portal)
    with app.extensions["db"].session() as session:
        store = OrganisationStore(session)
        orgs.validate_member(store, world["claire"], world["town"], world["fred_m"], utcnow())
        orgs.grant(store, world["claire"], world["town"], world["fred_m"], "etat-civil")
    with app.app_context():
        sub = pairwise_sub(world["fred"], portal[0])
    answer = call(app, "GET", f"/api/management/permissions?org={world['town']}&sub={sub}", token).get_json()
    assert (answer["active"], answer["eservices"]) == (True, ["etat-civil"])
    elsewhere = call(app, "GET", f"/api/management/permissions?org={world['assoc']}&sub={sub}", token).get_json()
    assert (elsewhere["active"], elsewhere["eservices"]) == (False, [])
    assert call(app, "GET", f"/api/management/permissions?org={world['town']}", token).status_code == 400


def test_a_persons_token_checks_only_that_person(app, world, portal):  # noqa: F811
    token = person_token(app, world["bruno"], portal[0])
    with app.app_context():
        other = pairwise_sub(world["fred"], portal[0])
    assert call(app, "GET", f"/api/management/permissions?org={world['town']}&sub={other}", token).status_code == 403


def test_a_token_outliving_its_session_acts_for_nobody(app, world, portal):  # noqa: F811
    client = portal[0]
    with app.test_request_context():
        record = sessions.create(world["claire"], ["pwd"])
        token, _ = tokens.access_token(pairwise_sub(world["claire"], client), client, SCOPE, "gid",
                                       {"sid": record.sid}, [client.client_id, *model().audiences(SCOPE.split())])
        from shared.appkit import get_redis

        get_redis().delete(f"idp:session:{record.sid}")
    assert call(app, "GET", f"/api/management/organisations/{world['town']}/members", token).status_code == 403


def test_legal_representatives_codes_through_the_api(app, world, portal):  # noqa: F811
    with app.extensions["db"].session() as session:
        store = OrganisationStore(session)
        organisation = orgs.create_organisation(store, org_data("Mairie C", "333333334"))
        candidate = make_person(store, "Hugo", "Bernard", "hugo@example.org")
        _m, letter = orgs.join_organisation(store, candidate, organisation, "administrator", utcnow(), CODE_URL)
    token = client_token(app, portal)
    body = {"reference": letter.request.reference, "code_1": letter.codes[0], "code_2": "WRONG"}
    wrong = call(app, "POST", "/api/management/admin-requests/confirm", token, json=body)
    assert (wrong.status_code, wrong.get_json()["outcome"]) == (422, "wrong")
    body["code_2"] = letter.codes[1]
    right = call(app, "POST", "/api/management/admin-requests/confirm", token, json=body)
    assert (right.status_code, right.get_json()["outcome"]) == (200, "validated")
    assert right.get_json()["organisation"] == "Mairie C" and "(hugo-bernard)" in right.get_json()["administrator"]
    assert "administrator" not in wrong.get_json(), "a wrong guess learns nobody's name"
