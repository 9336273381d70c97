"""The organisation a session acts for never goes stale: the portal asks the IdP at every request
(``GET /api/management/acting-for``) with the person's token, and the answer follows a switch made
at the IdP and an administrator's validation at once, with the same token (no new sign-in)."""

from __future__ import annotations

from idp.oidc import tokens
from idp.oidc.claims import pairwise_sub
from idp.services import organisations as orgs
from idp.services import sessions
from idp.storage.sql.organisations import OrganisationStore
from shared.authorization import model
from shared.timeutil import utcnow
from tests.idp.organisations.conftest import choose
from tests.idp.organisations.test_management_api import SCOPE, call, client_token, portal  # noqa: F401


def signed_in_with_token(app, client, account_id: str, portal_client) -> str:
    """A browser signed in at the IdP, and the portal's access token from that same IdP session."""
    with app.test_request_context():
        record = sessions.create(account_id, ["pwd"])
        audience = [portal_client.client_id, *model().audiences(SCOPE.split())]
        token, _ = tokens.access_token(pairwise_sub(account_id, portal_client), portal_client, SCOPE, "gid-t",
                                       {"sid": record.sid}, audience)
    client.set_cookie(sessions.COOKIE, record.cookie_secret)
    return token


def acting_for(app, token) -> dict:
    response = call(app, "GET", "/api/management/acting-for", token)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


def test_a_switch_at_the_idp_reaches_the_portals_next_request(app, world, portal):  # noqa: F811
    browser = app.test_client()
    token = signed_in_with_token(app, browser, world["claire"], portal[0])
    first = acting_for(app, token)
    assert first["org"] is None and first["organisations"] == 2  # several and none chosen: the person chooses
    choose(browser, world["town"])
    answer = acting_for(app, token)
    assert answer["org"]["id"] == world["town"] and answer["org_role"] == "administrator"
    choose(browser, world["assoc"])
    assert acting_for(app, token)["org"] == {"id": world["assoc"], "name": "Association B"}


def test_a_newly_validated_member_acts_for_the_organisation_without_signing_out(app, world, portal):  # noqa: F811
    token = signed_in_with_token(app, app.test_client(), world["fred"], portal[0])
    before = acting_for(app, token)
    assert (before["org"], before["active"], before["organisations"]) == (None, False, 0)
    with app.extensions["db"].session() as session:
        orgs.validate_member(OrganisationStore(session), world["claire"], world["town"], world["fred_m"], utcnow())
    after = acting_for(app, token)  # the same token: no new sign-in
    assert after["org"]["id"] == world["town"] and after["active"] and after["organisations"] == 1
    with app.extensions["db"].session() as session:
        orgs.invalidate_member(OrganisationStore(session), world["claire"], world["town"], world["fred_m"],
                               utcnow(), "")
    assert acting_for(app, token)["org"] is None  # and an invalidation at once too


def test_only_a_persons_token_asks_for_whom_it_acts(app, world, portal):  # noqa: F811
    refused = call(app, "GET", "/api/management/acting-for", client_token(app, portal))
    assert refused.status_code == 403
