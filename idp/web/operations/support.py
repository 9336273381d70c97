"""Console pages of the support desk: the queue of every portal's contact requests, one request,
its answer by email and its closing (rules: idp.services.support_desk)."""

from __future__ import annotations

from flask import abort, g, redirect, render_template, request, url_for
from flask_babel import lazy_gettext as _l

from idp.services import clients, support_desk
from idp.web.operations.blueprint import bp

STATUS_LABELS = {"open": _l("Ouverte"), "answered": _l("Répondue"), "closed": _l("Clôturée")}
ANSWER_ERRORS = {"required": _l("Écrivez la réponse."),
                 "too_long": _l("La réponse est trop longue (5000 caractères au plus)."),
                 "closed": _l("Cette demande est close : rouvrez-en une nouvelle plutôt que d'y répondre.")}
NOTICES = {"answered": _l("La réponse est envoyée par courriel, dans la langue de la personne."),
           "closed": _l("La demande est close.")}
LANGUAGES = {"fr": _l("français"), "en": _l("anglais")}


def portal_names() -> dict[str, str]:
    return {c.client_id: c.name for c in clients.all_clients()}


@bp.get("/support")
def support():
    status = request.args.get("status", "open")
    portal = request.args.get("portal", "")
    found = support_desk.queue(status, portal)
    return render_template("idp/operations/support.html", found=found, status=status, portal=portal,
                           statuses=STATUS_LABELS, portals=portal_names())


def ticket_page(ticket_id: str, errors=None, status=200):
    ticket = support_desk.get(ticket_id)
    if ticket is None:
        abort(404)
    return render_template("idp/operations/support_ticket.html", ticket=ticket, statuses=STATUS_LABELS,
                           portals=portal_names(), languages=LANGUAGES, errors=errors or {},
                           notice=NOTICES.get(request.args.get("done", ""))), status


@bp.get("/support/<ticket_id>")
def support_ticket(ticket_id: str):
    return ticket_page(ticket_id)


@bp.post("/support/<ticket_id>/answer")
def support_answer(ticket_id: str):
    try:
        support_desk.answer(g.operator.id, ticket_id, request.form.get("answer", ""))
    except LookupError:
        abort(404)
    except support_desk.BadRequest as bad:
        return ticket_page(ticket_id, {"answer": str(ANSWER_ERRORS[bad.code])}, 400)
    return redirect(url_for("operations.support_ticket", ticket_id=ticket_id, done="answered"), 303)


@bp.post("/support/<ticket_id>/close")
def support_close(ticket_id: str):
    try:
        support_desk.close(g.operator.id, ticket_id)
    except LookupError:
        abort(404)
    return redirect(url_for("operations.support_ticket", ticket_id=ticket_id, done="closed"), 303)
