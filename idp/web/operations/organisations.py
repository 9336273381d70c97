"""Console pages on organisations: list, one organisation (members, administrator requests and
their letters), suspend and unsuspend (rules: idp.services.operations_organisations)."""

from __future__ import annotations

from flask import abort, g, redirect, render_template, request, url_for
from flask_babel import lazy_gettext as _l

from idp.services import operations_organisations as service
from idp.web.operations.blueprint import bp
from idp.web.organisations import kind_labels, role_labels

REASON_ERRORS = {
    "required": _l("Saisissez le motif de la suspension."),
    "control": _l("Le motif tient sur une seule ligne, sans caractères invisibles ou de contrôle."),
    "too_long": _l("Le motif est trop long (300 caractères au plus)."),
}
# e-services caches the IdP's answer for reads a few seconds (PERMISSION_CACHE_SECONDS, 3) and the IdP
# sends it no event to drop it (outside review S6): the operator is told, rather than promised "at once"
NOTICES = {"suspended": _l("L'organisation est suspendue : plus personne n'agit pour elle ni n'utilise ses "
                           "e-services. Une page d'e-services déjà ouverte peut encore s'afficher quelques "
                           "secondes (3 par défaut, le cache de lecture du portail) ; toute modification est "
                           "refusée dès maintenant."),
           "unsuspended": _l("La suspension est levée.")}
MEMBERSHIP_STATUSES = {"pending": _l("En attente"), "active": _l("Active"), "invalidated": _l("Invalidée")}
REQUEST_STATUSES = {"pending": _l("En attente des codes"), "validated": _l("Validée"), "superseded": _l("Remplacée")}
LETTER_STATUSES = {"pending": _l("En file d'attente"), "sent": _l("Envoyé"), "failed": _l("Échec d'envoi")}


@bp.get("/organisations")
def organisations():
    query = request.args.get("q", "")
    return render_template("idp/operations/organisations.html", query=query, rows=service.listing(query),
                           kinds=kind_labels())


def organisation_page(organisation_id: str, errors=None, status=200, form=None):
    seen = service.view(organisation_id)
    if seen is None:
        abort(404)
    return render_template("idp/operations/organisation.html", seen=seen, kinds=kind_labels(), roles=role_labels(),
                           memberships=MEMBERSHIP_STATUSES, requests=REQUEST_STATUSES, letters=LETTER_STATUSES,
                           errors=errors or {}, form=form or {},
                           notice=NOTICES.get(request.args.get("done", ""))), status


@bp.get("/organisations/<organisation_id>")
def organisation(organisation_id: str):
    return organisation_page(organisation_id)


@bp.post("/organisations/<organisation_id>/suspend")
def organisation_suspend(organisation_id: str):
    try:
        service.set_suspended(g.operator.id, organisation_id, True, request.form.get("reason", ""))
    except service.BadReason as bad:
        return organisation_page(organisation_id, {"reason": str(REASON_ERRORS[str(bad)])}, 400, request.form)
    except LookupError:
        abort(404)
    return redirect(url_for("operations.organisation", organisation_id=organisation_id, done="suspended"), 303)


@bp.post("/organisations/<organisation_id>/unsuspend")
def organisation_unsuspend(organisation_id: str):
    try:
        service.set_suspended(g.operator.id, organisation_id, False)
    except LookupError:
        abort(404)
    return redirect(url_for("operations.organisation", organisation_id=organisation_id, done="unsuspended"), 303)
