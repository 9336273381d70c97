"""Pages of the justice personal space (thin): home and list, add a case, a case, detach, exports,
settings, help pages, support form. Flows live in ``services``."""

from __future__ import annotations

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from portals.justice import services
from portals.justice.models import Event
from portals.justice.services import Filters, Refused
from shared.appkit import get_db
from shared.i18n import select_locale
from shared.rp import current_principal, login_required

bp = Blueprint("justice", __name__)
PER_PAGE = 20

REFUSALS = {
    "unknown_number": _l("Ce numéro d'identification n'est pas reconnu. Vérifiez le numéro reçu par courriel ; "
                         "s'il est correct, rapprochez-vous du tribunal qui gère votre dossier."),
    "resend_too_soon": _l("Un code vient d'être envoyé. Vous pourrez en demander un nouveau dans %(seconds)s secondes."),
    "code_expired": _l("Ce code a expiré ou a déjà été utilisé. Demandez un nouveau code."),
    "too_many_attempts": _l("Trop de codes erronés. Demandez un nouveau code."),
    "wrong_code": _l("Ce code est erroné. Il vous reste %(left)s essai(s)."),
    "not_found": _l("Dossier introuvable."),
}
TOPICS = {"technical": _l("Dysfonctionnement technique"), "number": _l("Numéro d'identification"),
          "directories": _l("Liens vers les annuaires"), "other": _l("Autre question")}
EVENT_ICONS = {"event": "◆", "hearing": "⚖", "decision": "✔", "document": "📄"}
EVENT_LABELS = {"event": _l("Événement"), "hearing": _l("Audience"), "decision": _l("Décision"),
                "document": _l("Document")}
DOCUMENT_LABELS = {"receipt": _l("Récépissé"), "notice": _l("Avis"), "summons": _l("Convocation")}


def refusal_text(refusal: Refused) -> str:
    return str(REFUSALS[refusal.code]) % refusal.detail if refusal.detail else str(REFUSALS[refusal.code])


@bp.app_context_processor
def justice_context():
    return {"event_icons": EVENT_ICONS, "event_labels": EVENT_LABELS, "document_labels": DOCUMENT_LABELS,
            "topics": TOPICS}


@bp.get("/")
def home():
    principal = current_principal()
    if principal is None:
        return render_template("justice/landing.html")
    filters = Filters.from_args(request.args)
    page = max(1, request.args.get("page", 1, type=int) or 1)
    with get_db().session() as session:
        total = services.count_attached(session, principal.sub)
        matching = services.count_cases(session, principal.sub, filters)
        attachments = services.list_cases(session, principal.sub, filters, page=page, per_page=PER_PAGE)
        pages = max(1, -(-matching // PER_PAGE))
        query = {k: v for k, v in request.args.items() if k != "page"}
        return render_template("justice/home.html", attachments=attachments, total=total, filters=filters,
                               matching=matching, page=page, pages=pages, query=query,
                               show_search=total >= services.SEARCH_FROM,
                               upcoming=services.upcoming_hearings_count(session, principal.sub),
                               added=request.args.get("added"))


@bp.route("/cases/add", methods=["GET", "POST"])
@login_required
def add_case():
    principal = current_principal()
    errors, stage, masked, challenge, number = {}, "number", "", "", ""
    if request.method == "POST":
        challenge = request.form.get("challenge", "")
        number = request.form.get("number", "").strip()
        with get_db().session() as session:
            try:
                if request.form.get("action") == "confirm":
                    stage = "code"
                    masked = request.form.get("masked", "")
                    attachment = services.confirm_code(session, principal.sub, principal.claims.get("email"),
                                                       challenge, request.form.get("code", ""))
                    return redirect(url_for("justice.home", added=attachment.id))
                if not number:
                    errors["number"] = _("Saisissez le numéro d'identification reçu par courriel.")
                else:
                    challenge, masked = services.send_code(session, principal.sub, number)
                    stage = "code"
            except Refused as refusal:
                field = "code" if stage == "code" else "number"
                errors[field] = refusal_text(refusal)
                if refusal.code in ("code_expired", "too_many_attempts"):
                    stage = "number"
    return render_template("justice/add_case.html", errors=errors, stage=stage, masked=masked, challenge=challenge,
                           number=number), (400 if errors else 200)


@bp.get("/cases/<attachment_id>")
@login_required
def case(attachment_id: str):
    principal = current_principal()
    with get_db().session() as session:
        try:
            attachment = services.attachment_of(session, principal.sub, attachment_id)
        except Refused:
            abort(404)
        party = attachment.party
        if party.access_cut:
            return render_template("justice/access_cut.html", case=party.case), 403
        if not services.visible(party.case):
            abort(404)
        parties_by_role: dict[str, list] = {}
        for other in party.case.parties:
            parties_by_role.setdefault(other.role, []).append(other)
        return render_template("justice/case.html", attachment=attachment, case=party.case, party=party,
                               parties_by_role=parties_by_role, hearings=services.future_hearings(party.case),
                               show_parties=request.args.get("parties") == "1")


@bp.post("/cases/<attachment_id>/detach")
@login_required
def detach(attachment_id: str):
    with get_db().session() as session:
        try:
            services.detach(session, current_principal().sub, attachment_id)
        except Refused:
            abort(404)
    flash(_("Le dossier a été détaché de votre espace personnel. Le fait de détacher votre dossier n'annule ni votre "
            "consentement, ni vos alertes, ni l'envoi d'avis, de convocations et de récépissés par voie "
            "dématérialisée. Votre dossier ne sera simplement plus visible sur votre compte."), "success")
    return redirect(url_for("justice.home"))


@bp.get("/cases/<attachment_id>/documents/<event_id>")
@login_required
def document(attachment_id: str, event_id: str):
    with get_db().session() as session:
        try:
            attachment = services.attachment_of(session, current_principal().sub, attachment_id)
        except Refused:
            abort(404)
        event = session.get(Event, event_id)
        if (event is None or event.case_id != attachment.party.case_id or event.document_pdf is None
                or attachment.party.access_cut):
            abort(404)
        disposition = "attachment" if request.args.get("download") == "1" else "inline"
        return Response(event.document_pdf, mimetype="application/pdf", headers={
            "Content-Disposition": f'{disposition}; filename="{event.document_kind}-{attachment.party.case.reference}.pdf"'})


@bp.route("/export", methods=["GET", "POST"])
@login_required
def export():
    """The export dialog: chosen hearings (one from the timeline, several from the banner), ICS or CSV."""
    principal = current_principal()
    with get_db().session() as session:
        attachments = services.list_cases(session, principal.sub, Filters())
        hearings = [h for a in attachments if not a.party.access_cut for h in services.future_hearings(a.party.case)]
        if request.method == "POST":
            chosen = set(request.form.getlist("hearing"))
            selected = [h for h in hearings if h.id in chosen]
            fmt = request.form.get("format")
            if not selected or fmt not in ("ics", "csv"):
                return render_template("justice/export.html", hearings=hearings, chosen=chosen,
                                       error=_("Choisissez au moins une audience et un format.")), 400
            if fmt == "ics":
                return Response(services.export_ics(selected), mimetype="text/calendar",
                                headers={"Content-Disposition": 'attachment; filename="audiences.ics"'})
            return Response(services.export_csv(selected), mimetype="text/csv",
                            headers={"Content-Disposition": 'attachment; filename="audiences.csv"'})
        chosen = set(request.args.getlist("hearing"))
        return render_template("justice/export.html", hearings=hearings, chosen=chosen, error=None)


@bp.route("/settings", methods=["GET", "POST"])
@login_required
def settings_page():
    principal = current_principal()
    with get_db().session() as session:
        person = services.settings_of(session, principal.sub)
        attachments = services.list_cases(session, principal.sub, Filters())
        if request.method == "POST":
            person.alerts = request.form.get("disable_all") != "yes"
            off = set(request.form.getlist("case_off"))
            for attachment in attachments:
                attachment.alerts = attachment.id not in off
            flash(_("Vos paramètres sont enregistrés. Désactiver les alertes n'annule pas votre consentement à la "
                    "communication électronique ; les rappels d'audience par SMS continuent."), "success")
            return redirect(url_for("justice.settings_page"))
        return render_template("justice/settings.html", person=person, attachments=attachments)


@bp.get("/contact-details")
@login_required
def contact_details():
    principal = current_principal()
    with get_db().session() as session:
        attachments = services.list_cases(session, principal.sub, Filters())
        return render_template("justice/contact.html", attachments=attachments, masked=services.masked_phone)


@bp.get("/help")
def help_page():
    return render_template("justice/help.html")


@bp.get("/data-protection")
def data_protection():
    return render_template("justice/data_protection.html")


@bp.route("/support", methods=["GET", "POST"])
def support():
    principal = current_principal()
    errors, form = {}, {}
    if request.method == "POST":
        form = {k: request.form.get(k, "").strip() for k in ("email", "topic", "message")}
        if "@" not in form["email"] or len(form["email"]) > 320:
            errors["email"] = _("Saisissez votre adresse électronique.")
        if form["topic"] not in TOPICS:
            errors["topic"] = _("Choisissez l'objet de votre demande.")
        if not form["message"]:
            errors["message"] = _("Décrivez votre demande.")
        if not errors:
            with get_db().session() as session:
                created = services.create_support_request(session, principal.sub if principal else None,
                                                          form["email"], form["topic"], form["message"],
                                                          select_locale())
                reference = created.reference
            return render_template("justice/support_sent.html", reference=reference)
    return render_template("justice/support.html", errors=errors, form=form), (400 if errors else 200)
