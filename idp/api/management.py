"""The management API (seed 002): what an organisation's administrator does from a console, and
the permission check portals make on every e-service request. Described in management.yaml.

Authentication: an OAuth 2.0 bearer access token from this IdP with scope ``management``
made for this API (its audience, issued to a client config/authorization.toml names for it:
``idp.oidc.resource.require_api``).
- A *user-bound* token (issued to a person through a portal, ``sub`` names them) acts as that
  person: the organisation endpoints answer only for an organisation where that person is an
  active administrator (403 otherwise, 404 for records of another organisation).
- A *client* token (client credentials, no person) may only check permissions
  (``GET /permissions``) and forward the legal representative's codes (``POST /admin-requests/confirm``).
Nothing is cached here: a revoked permission is refused at the next check.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from flask import Blueprint, g, jsonify, request

from idp.services import organisations as orgs
from idp.services import permissions
from idp.services.permissions import NotAllowed, NotFound
from idp.storage.sql.organisations import OrganisationStore
from shared.appkit import get_db
from shared.timeutil import utcnow
from shared.web import csrf

bp = Blueprint("management_api", __name__, url_prefix="/api/management")
csrf.exempt(bp)
SCOPE = "management"


@contextlib.contextmanager
def store() -> Iterator[OrganisationStore]:
    with get_db().session() as session:
        organisation_store = OrganisationStore(session)
        yield organisation_store
    for action in organisation_store.after_commit:  # e.g. the lifecycle's deactivation hook
        action()


def problem(status: int, error: str, description: str):
    response = jsonify(error=error, error_description=description)
    response.status_code = status
    return response


def require_management(view):
    from idp.oidc.resource import require_api

    return require_api("management")(view)


def token_claims() -> dict:
    return g.token  # set by require_api


def acting_account_id() -> str | None:
    """The person a user-bound token speaks for (None for a client-credentials token).

    User-bound access tokens carry the pairwise ``sub`` and the IdP session id ``sid``: the person
    is the session's account, provided the session is still open and the subject matches (a
    token outliving its session's logout acts for nobody)."""
    from idp.oidc.claims import pairwise_sub
    from idp.services import clients, sessions

    claims = token_claims()
    sid = claims.get("sid")
    if not sid:
        return None
    record = sessions.load(sid)
    client = clients.get(claims.get("client_id"))
    if record is None or client is None or pairwise_sub(record.account_id, client) != claims.get("sub"):
        return None
    return record.account_id


def account_for_subject(sub: str, organisation_id: str) -> str | None:
    """The member of this organisation whom this client knows as ``sub`` (pairwise per client)."""
    from idp.oidc.claims import pairwise_sub
    from idp.services import clients

    client = clients.get(token_claims().get("client_id"))
    if client is None:
        return None
    with store() as s:
        for membership, _account in s.members(organisation_id):
            if pairwise_sub(membership.account_id, client) == sub:
                return membership.account_id
    return None


def user_only():
    account_id = acting_account_id()
    if account_id is None:
        return None, problem(403, "insufficient_scope", "this endpoint acts for a person: use a user-bound token")
    return account_id, None


def run(action):
    try:
        with store() as s:
            return action(s)
    except NotFound:
        return problem(404, "not_found", "no such record in this organisation")
    except NotAllowed as error:
        return problem(403, "forbidden", str(error))


# ---------------------------------------------------------------------------------------------


@bp.get("/acting-for")
@require_management
def acting_for():
    """For a person's token: the organisation their IdP session acts for now (the one chosen at the
    IdP, or the only one), their role and e-services there, and how many they may choose from.

    The truth of "for whom" lives here, read at every portal request, not in the ID token's claims:
    they are a snapshot taken at sign-in, while the switch, an administrator's validation and the
    legal representative's codes all happen at the IdP, often in another browser."""
    account_id, refused = user_only()
    if refused:
        return refused
    from idp.services import sessions

    record = sessions.load(token_claims().get("sid"))
    chosen = (record.context or {}).get("organisation_id") if record else None
    with store() as s:
        organisation_id = permissions.acting_organisation(s, account_id, chosen)
        context = permissions.organisation_context(s, account_id, organisation_id)
        count = len(permissions.active_organisations(s, account_id))
    return jsonify({"org": context.get("org"), "org_role": context.get("org_role"),
                    "eservices": context.get("eservices", []), "active": bool(context), "organisations": count})


@bp.get("/permissions")
@require_management
def check_permissions():
    """What this person may use in this organisation, right now."""
    organisation_id = request.args.get("org", "")
    sub = request.args.get("sub")
    if not organisation_id:
        return problem(400, "invalid_request", "org is required")
    if sub and token_claims().get("sid") and sub != token_claims().get("sub"):
        return problem(403, "forbidden", "a person's token checks that person's permissions only")
    if sub:
        account_id = account_for_subject(sub, organisation_id)
    else:
        account_id = acting_account_id()
        if account_id is None and not token_claims().get("sid"):
            return problem(400, "invalid_request", "sub is required with a client token")
    eservice_id = request.args.get("eservice")
    with store() as s:
        membership = permissions.active_membership(s, account_id, organisation_id) if account_id else None
        granted = permissions.granted_eservices(s, account_id, organisation_id) if membership else []
    body = {"sub": sub, "org": organisation_id, "active": membership is not None,
            "org_role": membership.role if membership else None, "eservices": granted}
    if eservice_id:
        body["eservice"] = eservice_id
        body["allowed"] = eservice_id in granted
    return jsonify(body)


@bp.get("/me/organisations")
@require_management
def my_organisations():
    account_id, error = user_only()
    if error:
        return error
    with store() as s:
        return jsonify(organisations=permissions.active_organisations(s, account_id))


@bp.get("/organisations/<organisation_id>/members")
@require_management
def members(organisation_id: str):
    account_id, error = user_only()
    if error:
        return error

    def action(s):
        data = orgs.console(s, account_id, organisation_id)
        return jsonify(organisation={"id": organisation_id, "name": data["organisation"].name},
                       members=[orgs.member_summary(s, m["membership"], m["account"]) for m in data["members"]])

    return run(action)


@bp.post("/organisations/<organisation_id>/members/<membership_id>/<decision>")
@require_management
def decide_member(organisation_id: str, membership_id: str, decision: str):
    account_id, error = user_only()
    if error:
        return error
    if decision not in ("validate", "invalidate"):
        return problem(404, "not_found", "unknown action")
    decide = orgs.validate_member if decision == "validate" else orgs.invalidate_member

    def action(s):
        membership = decide(s, account_id, organisation_id, membership_id, utcnow())
        return jsonify(orgs.member_summary(s, membership, s.account(membership.account_id)))

    return run(action)


@bp.put("/organisations/<organisation_id>/members/<membership_id>/grants/<eservice_id>")
@require_management
def put_grant(organisation_id: str, membership_id: str, eservice_id: str):
    account_id, error = user_only()
    if error:
        return error

    def action(s):
        orgs.grant(s, account_id, organisation_id, membership_id, eservice_id)
        membership = s.membership(membership_id)
        return jsonify(orgs.member_summary(s, membership, s.account(membership.account_id)))

    return run(action)


@bp.delete("/organisations/<organisation_id>/members/<membership_id>/grants/<eservice_id>")
@require_management
def delete_grant(organisation_id: str, membership_id: str, eservice_id: str):
    account_id, error = user_only()
    if error:
        return error

    def action(s):
        orgs.revoke(s, account_id, organisation_id, membership_id, eservice_id)
        membership = s.membership(membership_id)
        return jsonify(orgs.member_summary(s, membership, s.account(membership.account_id)))

    return run(action)


@bp.get("/organisations/<organisation_id>/subscriptions")
@require_management
def subscriptions(organisation_id: str):
    account_id, error = user_only()
    if error:
        return error

    def action(s):
        data = orgs.console(s, account_id, organisation_id)
        return jsonify(subscriptions=data["subscribed"])

    return run(action)


@bp.put("/organisations/<organisation_id>/subscriptions/<eservice_id>")
@require_management
def put_subscription(organisation_id: str, eservice_id: str):
    account_id, error = user_only()
    if error:
        return error

    def action(s):
        orgs.subscribe(s, account_id, organisation_id, eservice_id)
        return jsonify(subscriptions=[x.eservice_id for x in s.subscriptions(organisation_id)])

    return run(action)


@bp.delete("/organisations/<organisation_id>/subscriptions/<eservice_id>")
@require_management
def delete_subscription(organisation_id: str, eservice_id: str):
    account_id, error = user_only()
    if error:
        return error

    def action(s):
        orgs.unsubscribe(s, account_id, organisation_id, eservice_id)
        return jsonify(subscriptions=[x.eservice_id for x in s.subscriptions(organisation_id)])

    return run(action)


@bp.post("/admin-requests/confirm")
@require_management
def confirm_admin_request():
    """The legal representative's reference and two codes, forwarded by the e-services portal."""
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        return jsonify(error="invalid_request", error_description="a JSON object is required"), 400
    with store() as s:
        outcome = orgs.confirm_admin_request(s, str(body.get("reference", "")), str(body.get("code_1", "")),
                                             str(body.get("code_2", "")), utcnow())
        accepted = outcome in (orgs.Confirmation.VALIDATED, orgs.Confirmation.ALREADY)
        validated = orgs.validated_request_summary(s, str(body.get("reference", ""))) if accepted else None
    return jsonify(outcome=outcome.value, **(validated or {})), 200 if accepted else 422
