"""The registry's pages (thin): the people of an application (attach, re-attach, role, invitation,
remove, detach after an address change the IdP's event never delivered), the work queue of filings,
and an application's ZIP. Every view checks the registry role first; the flows are in ``parties``,
``queue`` and ``archive``."""

from __future__ import annotations

from flask import (
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    stream_with_context,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from portals.ecomms import archive, parties, queue, services
from portals.ecomms.models import ROLES, Document, Party
from portals.ecomms.parties import PartyRefused
from portals.ecomms.services import DOC_TYPES, Refused
from portals.ecomms.views import _visible, bp, refusal_text, registry_only
from shared.appkit import get_db
from shared.rp import login_required
from shared.web import safe_local_path

ROLE_LABELS = {"applicant": _l("Requérant"), "representative": _l("Représentant (avocat)")}
STATUS_LABELS = {
    "pending": _l("Invitation envoyée : compte pas encore activé"),
    "active": _l("Compte actif : pas encore connecté à eComms"),
    "seen": _l("Connecté à eComms"),
    "detached": _l("Détaché : l'adresse n'est plus celle du compte"),
}
# the same states within a sentence ("Rattachée à : … (Requérant, compte activé)")
STATUS_SUMMARY_LABELS = {
    "pending": _l("invitation envoyée"),
    "active": _l("compte activé, pas encore venu sur eComms"),
    "seen": _l("connecté à eComms"),
    "detached": _l("détaché"),
}
STATE_LABELS = {"new": _l("Nouveau"), "read": _l("Lu"), "processed": _l("Traité")}
PARTY_MESSAGES = {
    "email": _l("Saisissez une adresse électronique, comme nom@exemple.fr."),
    "role": _l("Choisissez le rôle de la personne."),
    "locale": _l("Choisissez la langue des courriels."),
    "already_attached": _l("Cette adresse est déjà rattachée à la requête."),
    "attached": _l("Cette personne est déjà rattachée : retirez-la, puis ajoutez la nouvelle adresse."),
    "detached": _l("Cette personne est détachée : rattachez-la d'abord à une adresse."),
}
QUEUE_MESSAGES = {
    "doc_type": _l("Choisissez un type de document de la liste."),
    "state": _l("Choisissez un état de la liste."),
    "date": _l("Saisissez une date comme 02/12/2026."),
    "date_order": _l("La date de fin précède la date de début."),
}
IDP_DOWN = _l("Le service d'identification ne répond pas : réessayez dans un instant.")


@bp.app_context_processor
def registry_context():
    return {"role_labels": ROLE_LABELS, "party_status_labels": STATUS_LABELS,
            "party_summary_labels": STATUS_SUMMARY_LABELS, "party_status": parties.status_of}


def _party(selected, party_id: str) -> Party:
    party = next((p for p in selected.parties if p.id == party_id), None)
    if party is None:
        abort(404)
    return party


def _back(selected):
    return redirect(url_for("ecomms.people", application_id=selected.id))


def _locale(value: str | None) -> str:
    return value if value in parties.LOCALES else ""


def _apply(selected, change, success: str):
    """Run one change of the people; a refusal or an unreachable IdP is flashed, nothing written."""
    try:
        change()
    except PartyRefused as refusal:
        flash(str(PARTY_MESSAGES[refusal.code]), "error")
        return False
    except Refused as refusal:
        flash(refusal_text(refusal), "error")
        return False
    except Exception as error:  # the IdP is unreachable: nothing was written
        current_app.logger.warning("provisioning failed: %s", error)
        flash(str(IDP_DOWN), "error")
        return False
    flash(success, "success")
    return True


# -- the people of an application ------------------------------------------------------------------

@bp.get("/registry/applications/<application_id>/people")
@login_required
def people(application_id: str):
    principal = registry_only()
    with get_db().session() as session:
        selected = _visible(session, principal, application_id)
        return render_template("ecomms/people.html", selected=selected, roles=ROLES)


@bp.post("/registry/applications/<application_id>/people")
@login_required
def add_person(application_id: str):
    principal = registry_only()
    email = request.form.get("email", "")
    with get_db().session() as session:
        selected = _visible(session, principal, application_id)
        _apply(selected, lambda: parties.attach(session, selected, principal, email, request.form.get("role", ""),
                                                _locale(request.form.get("locale")), services.invite),
               _("%(email)s est rattaché à la requête et en est informé par courriel.", email=email.strip().lower()))
        return _back(selected)


def _change_person(application_id: str, party_id: str, change, success):
    """One person's change (``change(session, application, party)``), then back to the people's page."""
    principal = registry_only()
    with get_db().session() as session:
        selected = _visible(session, principal, application_id)
        party = _party(selected, party_id)
        message = success(party)  # worded before the change (a removed person's address is gone after)
        _apply(selected, lambda: change(session, selected, party), message)
        return _back(selected)


@bp.post("/registry/applications/<application_id>/people/<party_id>/role")
@login_required
def change_role(application_id: str, party_id: str):
    return _change_person(application_id, party_id,
                          lambda _s, selected, party: parties.change_role(selected, party, request.form.get("role", "")),
                          lambda party: _("Le rôle de %(email)s est modifié.", email=party.email))


@bp.post("/registry/applications/<application_id>/people/<party_id>/invitation")
@login_required
def reinvite(application_id: str, party_id: str):
    return _change_person(application_id, party_id,
                          lambda _s, selected, party: parties.reinvite(selected, party, services.invite),
                          lambda party: _("L'invitation est renvoyée à %(email)s.", email=party.email))


@bp.post("/registry/applications/<application_id>/people/<party_id>/remove")
@login_required
def remove_person(application_id: str, party_id: str):
    return _change_person(application_id, party_id, parties.remove,
                          lambda party: _("%(email)s n'est plus rattaché à la requête : son compte ne la voit plus.",
                                          email=party.email))


@bp.post("/registry/applications/<application_id>/people/<party_id>/attach")
@login_required
def reattach_person(application_id: str, party_id: str):
    return _change_person(application_id, party_id, _reattach, _reattached)


@bp.post("/registry/applications/<application_id>/people/<party_id>/detach")
@login_required
def detach_person(application_id: str, party_id: str):
    """The account's address changed and the IdP's event was abandoned after its retries: the registry
    does by hand what the event does (every application of the account detached, its sessions ended)."""
    principal = registry_only()
    with get_db().session() as session:
        selected = _visible(session, principal, application_id)
        party = _party(selected, party_id)
        sub, email = party.sub, party.email
        if sub is None:
            flash(str(PARTY_MESSAGES["detached"]), "error")
            return _back(selected)
        detached = parties.detach_subject(session, sub)
    current_app.extensions["rp_sessions"].end_matching(None, sub)
    flash(_("Le compte de %(email)s est détaché de %(count)s requête(s) ; rattachez chacune à sa nouvelle adresse.",
            email=email, count=len(detached)), "success")
    return redirect(url_for("ecomms.people", application_id=application_id))


@bp.post("/registry/applications/<application_id>/attach")
@login_required
def reattach(application_id: str):
    """After an address change: the application's (first) detached person attached to the new address."""
    principal = registry_only()
    with get_db().session() as session:
        selected = _visible(session, principal, application_id)
        party = next((p for p in selected.parties if not p.is_attached), None)
        if party is None:
            abort(404)
        _apply(selected, lambda: _reattach(session, selected, party, field="applicant_email"),
               _reattached(party, field="applicant_email"))
        return redirect(url_for("ecomms.application", application_id=selected.id))


def _reattach(session, selected, party: Party, field: str = "email") -> None:
    parties.reattach(session, selected, party, request.form.get(field, ""),
                     _locale(request.form.get("locale")) or party.locale, services.invite)


def _reattached(_party: Party, field: str = "email") -> str:
    return _("La requête est rattachée à %(email)s, qui en est informé par courriel.",
             email=request.form.get(field, "").strip().lower())


# -- the work queue --------------------------------------------------------------------------------

@bp.get("/registry/queue")
@login_required
def work_queue():
    registry_only()
    criteria = queue.criteria_from(request.args, DOC_TYPES)
    with get_db().session() as session:
        page = queue.search(session, criteria)
        args = criteria.as_args()
        pages = [(n, url_for("ecomms.work_queue", page=n, **args)) for n in range(1, page.pages + 1)]
        errors = {name: str(QUEUE_MESSAGES[code]) for name, code in criteria.errors.items()}
        return render_template("ecomms/queue.html", page=page, criteria=criteria, pages=pages, errors=errors,
                               state_of=queue.state_of, state_labels=STATE_LABELS,
                               filer=lambda d: next((p for p in d.application.parties if p.sub == d.sender_sub), None),
                               back=request.full_path), 400 if errors else 200


@bp.post("/registry/documents/<document_id>/processed")
@login_required
def mark_processed(document_id: str):
    principal = registry_only()
    with get_db().session() as session:
        document = session.get(Document, document_id) if len(document_id) <= 36 else None
        if document is None or document.direction != "to_court":
            abort(404)
        queue.mark_processed(document, principal, request.form.get("processed") != "no")
    return redirect(safe_local_path(request.form.get("next", ""), url_for("ecomms.work_queue")))


# -- the application's ZIP -------------------------------------------------------------------------

@bp.get("/registry/applications/<application_id>/documents.zip")
@login_required
def application_zip(application_id: str):
    principal = registry_only()
    with get_db().session() as session:
        selected = _visible(session, principal, application_id)
        members = archive.entries(selected, services.storage_folder())
        name = f"{selected.file_prefix}_documents.zip"
    return Response(stream_with_context(archive.stream(members)), mimetype="application/zip",
                    headers={"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"})
