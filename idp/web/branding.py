"""The brand of the page being rendered (thin): the client of the interaction the page belongs to.

An IdP page belongs to an interaction when its URL names it (``/interaction/<uid>/…``) or carries it
(``?interaction=<uid>`` on registration and recovery, ``uid`` in a federation form); a view that
knows it otherwise sets ``g.interaction_uid``; a page opened from an emailed link sets
``g.brand_client_id`` from the link's server-side data (``idp.services.returning``). Everything else
is the IdP's own page: neutral brand.
"""

from __future__ import annotations

from flask import Blueprint, Response, abort, g, request

from idp.services import branding, clients

bp = Blueprint("branding", __name__)


def _interaction_uid() -> str | None:
    return (g.get("interaction_uid") or (request.view_args or {}).get("uid")
            or request.args.get("interaction") or request.form.get("interaction") or request.form.get("uid") or None)


def current_brand() -> branding.Brand:
    if "brand" not in g:
        from idp.oidc import interaction as interactions

        client_id = g.get("brand_client_id")
        if client_id is None:
            uid = _interaction_uid()
            interaction = interactions.load(uid) if uid and len(uid) <= 64 else None
            client_id = interaction.client_id if interaction else None
        g.brand = branding.brand_for(clients.get(client_id))
    return g.brand


@bp.get("/branding/<key>.css")
def stylesheet(key: str):
    """The brand's colour as a stylesheet (the pages' CSP allows no inline style)."""
    brand = branding.styled(key)  # only the brands the configuration styles: no lookup by a URL's word
    if brand is None:
        abort(404)
    return Response(brand.css(), mimetype="text/css", headers={"Cache-Control": "public, max-age=300"})


@bp.record_once
def _check(_state) -> None:
    branding.check_configuration()  # a misconfigured brand stops the start, not a sign-in


@bp.app_context_processor
def brand_context():
    brand = current_brand()
    return {"brand": brand, "service_name": brand.name, "brand_css": branding.stylesheet_key(brand),
            "neutral_name": branding.neutral().name}
