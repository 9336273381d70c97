"""The provisioning API (seed 000 §1): a portal invites a person by email. Described in provisioning.yaml.

Authentication: a client-credentials access token made for this API (audience, scope
``provisioning``, a client named for it in config/authorization.toml). The answer names
the person by the subject *this* client will see in its ID tokens (pairwise), so a portal can
attach its records before the person's first sign-in.
"""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, Response, g, jsonify, request

from idp.oidc.claims import pairwise_sub
from idp.oidc.resource import require_api
from idp.services import clients, lifecycle, text_fields
from idp.services.text_fields import BadText
from shared.web import csrf

bp = Blueprint("provisioning_api", __name__, url_prefix="/api/provisioning")
csrf.exempt(bp)
SPEC = Path(__file__).with_name("provisioning.yaml")


@bp.post("/invitations")
@require_api("provisioning")
def invite():
    if g.token.get("sub") != g.token.get("client_id"):  # a person's token: provisioning is a portal's act
        return jsonify(error="invalid_token", error_description="a client-credentials token is required"), 403
    client = clients.get(g.token.get("client_id"))
    body = request.get_json(silent=True)
    if client is None or not isinstance(body, dict):
        return jsonify(error="invalid_request", error_description="a JSON object is required"), 400
    email, locale = body.get("email"), body.get("locale", "fr")
    if not isinstance(email, str) or not lifecycle.valid_email(email):
        return jsonify(error="invalid_request", error_description="'email' must be an email address"), 400
    if locale not in ("fr", "en"):
        return jsonify(error="invalid_request", error_description="'locale' must be 'fr' or 'en'"), 400
    names = {k: body.get(k) for k in ("given_name", "family_name")}
    if any(v is not None and not isinstance(v, str) for v in names.values()):
        return jsonify(error="invalid_request", error_description="names must be strings"), 400
    try:
        account, status = lifecycle.invite(email, client, locale, **names)
    except BadText as bad:
        return jsonify(error="invalid_request", error_description=(
            f"{', '.join(bad.errors)}: one line of at most {text_fields.limit('given_name')} characters, "
            "without control, line-separator or invisible formatting characters")), 400
    return jsonify(sub=pairwise_sub(account.id, client), status=status), 201 if status == "pending" else 200


@bp.get("/openapi.yaml")
def openapi():
    return Response(SPEC.read_text(), mimetype="application/yaml")
