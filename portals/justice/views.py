"""Pages of the justice personal space (thin): home and list, add a case, a case, detach, exports,
settings, help pages, support form. Flows live in ``services``."""

from __future__ import annotations

import re

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from portals.justice import alerts, calendar, codes, help_content, services
from portals.justice.models import Event
from portals.justice.services import Filters, Refused
from shared.appkit import get_db
from shared.i18n import select_locale
from shared.rp import current_principal, login_required
from shared.timeutil import to_strasbourg

bp = Blueprint("justice", __name__)
PER_PAGE = 20

REFUSALS = {
    "unknown_number": _l("Ce numéro d'identification n'est pas reconnu. Vérifiez le numéro reçu par courriel ; "
                         "s'il est correct, rapprochez-vous du tribunal qui gère votre dossier."),
    "resend_too_soon": _l("Un code vient d'être envoyé. Vous pourrez en demander un nouveau dans %(seconds)s secondes."),
    "code_expired": _l("Ce code a expiré ou a déjà été utilisé. Demandez un nouveau code."),
    "too_many_attempts": _l("Trop de codes erronés. Demandez un nouveau code."),
    "wrong_code": _l("Ce code est erroné. Il vous reste %(left)s essai(s)."),
    "too_many_lookups": _l("Trop de numéros d'identification saisis. Réessayez dans %(minutes)s minute(s) ; si votre "
                           "numéro est refusé, rapprochez-vous du tribunal qui gère votre dossier."),
    "too_many_sms": _l("Trop de codes ont été envoyés aujourd'hui à ce numéro de téléphone. Réessayez demain."),
    "not_found": _l("Dossier introuvable."),
    "support_email": _l("Saisissez une adresse électronique complète, par exemple prenom.nom@exemple.fr."),
    "support_too_long": _l("Votre demande compte %(length)s caractères : raccourcissez-la à %(limit)s caractères au "
                           "plus."),
}
TOPICS = {"technical": _l("Dysfonctionnement technique"), "number": _l("Numéro d'identification"),
          "directories": _l("Liens vers les annuaires"), "other": _l("Autre question")}
EVENT_LABELS = {"event": _l("Événement"), "hearing": _l("Audience"), "decision": _l("Décision"),
                "renvoi": _l("Renvoi"), "document": _l("Document")}
DOCUMENT_LABELS = {"receipt": _l("Récépissé"), "notice": _l("Avis"), "summons": _l("Convocation")}
ALERT_REASONS = {
    "": _l("Alertes envoyées à %(email)s, l'adresse que le tribunal détient."),
    "case_off": _l("Alertes désactivées pour ce dossier (elles iraient à %(email)s)."),
    "all_off": _l("Toutes vos alertes sont désactivées (elles iraient à %(email)s)."),
    "no_email": _l("Le tribunal ne détient pas d'adresse électronique : aucune alerte ne peut être envoyée. "
                   "Informez-en le tribunal."),
    "no_consent": _l("Pas d'alerte : le tribunal n'a pas enregistré votre consentement."),
    "access_cut": _l("Accès coupé par le tribunal."),
}


def refusal_text(refusal: Refused) -> str:
    return str(REFUSALS[refusal.code]) % refusal.detail if refusal.detail else str(REFUSALS[refusal.code])


@bp.app_template_filter("paris_date")
def paris_date(moment) -> str:
    """The date of a moment in Paris (a decision given at 00:30 Paris time is dated that day)."""
    return to_strasbourg(moment).strftime("%d/%m/%Y")


@bp.app_context_processor
def justice_context():
    return {"event_labels": EVENT_LABELS, "document_labels": DOCUMENT_LABELS, "topics": TOPICS}


@bp.get("/")
def home():
    principal = current_principal()
    if principal is None:
        return render_template("justice/landing.html")
    filters = Filters.from_args(request.args)
    page = max(1, request.args.get("page", 1, type=int) or 1)
    with get_db().session() as session:
        services.remember_locale(session, principal.sub, select_locale())
        total = services.count_attached(session, principal.sub)
        matching = services.count_cases(session, principal.sub, filters)
        cards = services.list_cases(session, principal.sub, filters, page=page, per_page=PER_PAGE)
        pages = max(1, -(-matching // PER_PAGE))
        query = {k: v for k, v in request.args.items() if k != "page"}
        return render_template("justice/home.html", cards=cards, total=total, filters=filters,
                               matching=matching, page=page, pages=pages, query=query,
                               show_search=total >= services.SEARCH_FROM,
                               upcoming=services.upcoming_hearings_count(session, principal.sub),
                               added=request.args.get("added"))


@bp.route("/cases/add", methods=["GET", "POST"])
@login_required
def add_case():
    """Number → code. The code field stays while a code is pending (also after a session renewal,
    and when a new code is asked too soon); each refusal says what happened and what to do."""
    principal = current_principal()
    errors, notice, number = {}, "", ""
    action = request.form.get("action", "")
    with get_db().session() as session:
        if request.method == "POST":
            number = request.form.get("number", "").strip()
            try:
                if action == "confirm":
                    attachment = codes.confirm_code(session, principal.sub, request.form.get("challenge", ""),
                                                    request.form.get("code", ""))
                    return redirect(url_for("justice.home", added=attachment.id))
                if action == "resend":
                    codes.resend_code(session, principal.sub, select_locale())
                    notice = _("Un nouveau code vient d'être envoyé. Le précédent ne fonctionne plus.")
                elif action == "restart":
                    codes.abandon(principal.sub)
                elif not number:
                    errors["number"] = _("Saisissez le numéro d'identification reçu par courriel.")
                else:
                    codes.send_code(session, principal.sub, number, select_locale())
            except Refused as refusal:
                field = "code" if action in ("confirm", "resend") and refusal.code != "code_expired" else "number"
                if action == "confirm" and refusal.code in ("code_expired", "too_many_attempts"):
                    field = "number"
                errors[field] = refusal_text(refusal)
        pending = codes.pending_of(principal.sub)
    return render_template("justice/add_case.html", errors=errors, pending=pending, number=number, notice=notice,
                           stage="code" if pending else "number"), (400 if errors else 200)


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
                               views=services.views_of_case(session, principal.sub, party.case_id),
                               events=services.timeline(party.case), parties_by_role=parties_by_role,
                               hearings=services.future_hearings(party.case),
                               cancelled=services.cancelled_hearings(party.case),
                               show_parties=request.args.get("parties") == "1")


@bp.get("/cases/<attachment_id>/cancellations/<hearing_id>.ics")
@login_required
def cancellation(attachment_id: str, hearing_id: str):
    """The cancellation of a hearing (METHOD:CANCEL, same UID): opening it removes the hearing from
    a calendar that imported it from a file."""
    with get_db().session() as session:
        try:
            attachment = services.attachment_of(session, current_principal().sub, attachment_id)
        except Refused:
            abort(404)
        if attachment.party.access_cut:
            abort(404)
        hearing = next((e for e in services.cancelled_hearings(attachment.party.case) if e.id == hearing_id), None)
        if hearing is None:
            abort(404)
        return Response(calendar.export_ics([hearing]), mimetype="text/calendar",
                        headers={"Content-Disposition": 'attachment; filename="annulation.ics"'})


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
                or attachment.party.access_cut or event.status == "cancelled"):
            abort(404)
        disposition = "attachment" if request.args.get("download") == "1" else "inline"
        name = re.sub(r"[^A-Za-z0-9]+", "-", f"{event.document_kind}-{attachment.party.case.reference}").strip("-")
        return Response(event.document_pdf, mimetype="application/pdf", headers={
            "Content-Disposition": f'{disposition}; filename="{name}.pdf"'})


@bp.route("/export", methods=["GET", "POST"])
@login_required
def export():
    """The export dialog: chosen hearings (one from the timeline, several from the banner), ICS or CSV."""
    principal = current_principal()
    with get_db().session() as session:
        hearings = services.hearings_to_export(session, principal.sub)
        if request.method == "POST":
            chosen = set(request.form.getlist("hearing"))
            selected = [h for h in hearings if h.id in chosen]
            fmt = request.form.get("format")
            if not selected or fmt not in ("ics", "csv"):
                return render_template("justice/export.html", hearings=hearings, chosen=chosen,
                                       error=_("Choisissez au moins une audience et un format.")), 400
            if fmt == "ics":
                return Response(calendar.export_ics(selected), mimetype="text/calendar",
                                headers={"Content-Disposition": 'attachment; filename="audiences.ics"'})
            return Response(calendar.export_csv(selected), mimetype="text/csv",
                            headers={"Content-Disposition": 'attachment; filename="audiences.csv"'})
        chosen = set(request.args.getlist("hearing"))
        return render_template("justice/export.html", hearings=hearings, chosen=chosen, error=None)


@bp.get("/calendar/<token>.ics")
def calendar_feed(token: str):
    """The person's subscription address: no session (calendar apps fetch it), the secret is the key."""
    with get_db().session() as session:
        hearings = services.calendar_of(session, token)
        if hearings is None:
            abort(404)
        return Response(calendar.export_ics(hearings, name=_("Mes audiences (justice.fr)")),
                        mimetype="text/calendar", headers={"Cache-Control": "private, max-age=900"})


@bp.route("/settings", methods=["GET", "POST"])
@login_required
def settings_page():
    principal = current_principal()
    with get_db().session() as session:
        person = services.settings_of(session, principal.sub)
        views = services.current_views(session, principal.sub)
        if request.method == "POST":
            action = request.form.get("action", "alerts")
            if action == "calendar_new":
                token = services.new_calendar_token(session, principal.sub)
                flash(_("Votre adresse d'abonnement est prête. Copiez-la dans votre agenda ; l'ancienne adresse ne "
                        "fonctionne plus."), "success")
                return render_template("justice/settings.html", person=person, views=views,
                                       rules=alerts.rules_for(session, [v.party for v in views]),
                                       reasons=ALERT_REASONS, calendar_url=url_for(
                                           "justice.calendar_feed", token=token, _external=True))
            if action == "calendar_revoke":
                services.revoke_calendar_token(session, principal.sub)
                flash(_("Votre adresse d'abonnement est supprimée : les agendas abonnés ne reçoivent plus vos "
                        "audiences."), "success")
                return redirect(url_for("justice.settings_page"))
            services.save_alert_choices(session, principal.sub, request.form.get("disable_all") == "yes",
                                        set(request.form.getlist("case_off")), request.form.get("digest", "immediate"))
            flash(_("Vos paramètres sont enregistrés. Désactiver les alertes n'annule pas votre consentement à la "
                    "communication électronique ; les rappels d'audience par SMS continuent."), "success")
            return redirect(url_for("justice.settings_page"))
        return render_template("justice/settings.html", person=person, views=views,
                               rules=alerts.rules_for(session, [v.party for v in views]), reasons=ALERT_REASONS,
                               calendar_url=None)


@bp.get("/contact-details")
@login_required
def contact_details():
    principal = current_principal()
    with get_db().session() as session:
        views = services.current_views(session, principal.sub)
        return render_template("justice/contact.html", views=views, masked=services.masked_phone)


@bp.get("/help")
def help_page():
    return render_template("justice/help.html", sections=help_content.SECTIONS, answered=request.args.get("answered"))


@bp.post("/help/feedback")
def help_feedback():
    """ "Avez-vous trouvé la réponse à votre question ?" — counted per section, nothing personal kept."""
    section = request.form.get("section", "")
    if section not in help_content.SECTION_IDS or request.form.get("found") not in ("yes", "no"):
        abort(400)
    with get_db().session() as session:
        services.record_help_answer(session, section, request.form["found"] == "yes")
    if request.form["found"] == "no":
        flash(_("Merci. Si vous n'avez pas trouvé votre réponse, l'équipe support peut vous aider."), "info")
        return redirect(url_for("justice.support"))
    flash(_("Merci pour votre réponse."), "success")
    return redirect(url_for("justice.help_page", _anchor=section))


@bp.get("/data-protection")
def data_protection():
    return render_template("justice/data_protection.html")


@bp.get("/support")
def support():
    """First step: what the support team answers and how to reach it; "Poursuivre" opens the form."""
    return render_template("justice/support.html")


@bp.route("/support/message", methods=["GET", "POST"])
def support_form():
    principal = current_principal()
    errors, form = {}, {}
    if request.method == "POST":
        form = {k: request.form.get(k, "").strip() for k in ("email", "topic", "message")}
        if not form["email"]:
            errors["email"] = _("Saisissez votre adresse électronique.")
        elif not services.valid_email(form["email"]):
            errors["email"] = str(REFUSALS["support_email"])
        if form["topic"] not in TOPICS:
            errors["topic"] = _("Choisissez l'objet de votre demande.")
        if not form["message"]:
            errors["message"] = _("Décrivez votre demande.")
        elif len(form["message"]) > services.SUPPORT_MESSAGE_LIMIT:
            errors["message"] = str(REFUSALS["support_too_long"]) % {
                "length": len(form["message"]), "limit": services.SUPPORT_MESSAGE_LIMIT}
        if not errors:
            with get_db().session() as session:
                created = services.create_support_request(session, principal.sub if principal else None,
                                                          form["email"], form["topic"], form["message"],
                                                          select_locale())
                reference = created.reference
            return render_template("justice/support_sent.html", reference=reference)
    return render_template("justice/support_form.html", errors=errors, form=form,
                           limit=services.SUPPORT_MESSAGE_LIMIT), (400 if errors else 200)
