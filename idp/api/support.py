"""The support API: a portal hands over a contact request of its forms to the IdP's support desk
(idp.services.support_desk), described in support.yaml. Authentication: a client-credentials token made for this API
(audience, scope ``support``, a client named for it in config/authorization.toml)."""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, Response, g, jsonify, request

from idp.oidc.resource import require_api
from idp.services import support_desk
from shared.web import csrf

bp = Blueprint("support_api", __name__, url_prefix="/api/support")
csrf.exempt(bp)
SPEC = Path(__file__).with_name("support.yaml")


@bp.post("/requests")
@require_api("support")
def hand_over():
    if g.token.get("sub") != g.token.get("client_id"):  # a person's token: handing over is a portal's act
        return jsonify(error="invalid_token", error_description="a client-credentials token is required"), 403
    try:
        ticket, created = support_desk.receive(g.token["client_id"], request.get_json(silent=True))
    except support_desk.BadRequest as bad:
        return jsonify(error="invalid_request", error_description=f"'{bad.field}' is missing or not valid"), 400
    return jsonify(id=ticket.id, reference=ticket.reference, status=ticket.status), 201 if created else 200


@bp.get("/requests")
@require_api("support")
def request_statuses():
    """Where this portal's requests stand at the desk (``?reference=…``, repeated, at most 50)."""
    if g.token.get("sub") != g.token.get("client_id"):
        return jsonify(error="invalid_token", error_description="a client-credentials token is required"), 403
    try:
        found = support_desk.statuses(g.token["client_id"], request.args.getlist("reference"))
    except support_desk.BadRequest:
        return jsonify(error="invalid_request",
                       error_description="'reference': 1 to 50 references of at most 32 characters"), 400
    return jsonify(requests=[{"reference": reference, "status": status} for reference, status in found.items()])


@bp.get("/openapi.yaml")
def openapi():
    return Response(SPEC.read_text(), mimetype="application/yaml")
