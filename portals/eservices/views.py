"""The portal's pages: home and launcher, catalogue, one page per e-service (permission checked on
every request), Help (seed 002's FAQ), the support form at the bottom of every page, and the
legal representative's code entry. The administrator's console is at the IdP (linked)."""

from __future__ import annotations

from datetime import date
from urllib.parse import urlencode

from flask import Blueprint, abort, current_app, flash, g, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _

from portals.eservices import procedures, services
from shared.appkit import get_db, get_settings
from shared.rp import current_principal, login_required
from shared.timeutil import to_strasbourg, utcnow
from shared.web import render_error, safe_local_path

bp = Blueprint("eservices", __name__)


def locale() -> str:
    return str(get_locale() or "fr")


def idp_url(path: str, **params: str) -> str:
    query = f"?{urlencode(params)}" if params else ""
    return f"{get_settings().issuer}{path}{query}"


def permission_client() -> services.PermissionClient:
    return current_app.extensions["eservices_permissions"]


def acting_for() -> services.Access | None:
    """For whom the signed-in person's IdP session acts, asked once per request (the header, the
    menu and the page read the same answer)."""
    if "eservices_access" not in g:
        principal = current_principal()
        g.eservices_access = permission_client().access(principal) if principal else None
    return g.eservices_access


@bp.app_context_processor
def portal_context():
    return {
        "idp_register_url": idp_url("/organisations/inscription"),
        "idp_mine_url": idp_url("/organisations/"),
        "idp_switch_url": idp_url("/organisations/choix", client_id="eservices"),
        "idp_console_url": idp_url("/organisations/console"),
        "idp_account_url": idp_url("/account"),
        "support_topics": support_topics(),
        "support_prefill": lambda: services.support_prefill(current_principal()),
        "locale": locale(),
        "acting_for": acting_for,
    }


def support_topics() -> dict[str, str]:
    return {"courrier": _("Courrier des codes de confirmation non reçu"), "compte": _("Compte désactivé"),
            "inscription": _("Inscription"), "e-service": _("Utilisation d'un e-service"), "autre": _("Autre")}


@bp.route("/")
def home():
    access = acting_for()
    granted = []
    if access:
        granted = [e for key, e in services.catalogue().items() if key in access.eservices]
    return render_template("eservices/home.html", access=access, granted=granted)


@bp.route("/catalogue")
def catalogue():
    return render_template("eservices/catalogue.html", catalogue=services.catalogue())


def checked_eservice(eservice_id: str):
    """The e-service's page may open: (catalogue entry, its procedure, the live access), or the
    answer that refuses (404 unknown e-service, 503 IdP unreachable, 403 no grant for the organisation
    the session acts for — checked before any record is looked up, so a refusal tells nothing of it)."""
    entry, procedure = services.catalogue().get(eservice_id), procedures.PROCEDURES.get(eservice_id)
    if entry is None or procedure is None:
        abort(404)
    access = acting_for()
    if not access.reachable:
        return None, render_error(503, _("Service momentanément indisponible"),
                                  _("Vos permissions n'ont pas pu être vérifiées. Réessayez dans quelques instants."))
    if eservice_id not in access.eservices:
        return None, (render_template("eservices/forbidden.html", eservice=entry, access=access), 403)
    return (entry, procedure, access), None


def today() -> date:
    return to_strasbourg(utcnow()).date()


@bp.route("/e-services/<eservice_id>", methods=["GET", "POST"])
@login_required
def eservice(eservice_id: str):
    checked, refusal = checked_eservice(eservice_id)
    if refusal:
        return refusal
    entry, procedure, access = checked
    organisation_id = access.organisation["id"]
    errors, form = {}, request.form
    if request.method == "POST":
        with get_db().session() as session:
            outcome = services.create_demarche(session, current_principal(), organisation_id, procedure,
                                               request.form.to_dict(), today())
            reference = None if isinstance(outcome, dict) else outcome.reference
        if reference:
            flash(_("Votre démarche est enregistrée sous la référence %(ref)s.", ref=reference), "success")
            return redirect(url_for("eservices.record", eservice_id=eservice_id, reference=reference))
        words = procedures.messages()  # each message names its field: the summary lists them apart
        errors = {name: _("%(field)s : %(problem)s", field=procedure.field(name).label, problem=words[code])
                  for name, code in outcome.items()}
    with get_db().session() as session:
        items = services.demarches(session, organisation_id, eservice_id)
    return render_template("eservices/eservice.html", eservice=entry, procedure=procedure, access=access,
                           items=items, errors=errors, form=form, shown=procedures.shown,
                           today=today().isoformat()), 400 if errors else 200


@bp.route("/e-services/<eservice_id>/demarches/<reference>")
@login_required
def record(eservice_id: str, reference: str):
    """One record, by the reference in its URL: the person needs the e-service's grant in the
    organisation the session acts for, and the record must be that organisation's."""
    checked, refusal = checked_eservice(eservice_id)
    if refusal:
        return refusal
    entry, procedure, access = checked
    with get_db().session() as session:
        item = services.demarche(session, access.organisation["id"], eservice_id, reference)
    if item is None:
        return render_error(404, _("Démarche introuvable"),
                            _("Aucune démarche de votre organisation ne porte cette référence dans cet e-service."))
    return render_template("eservices/record.html", eservice=entry, procedure=procedure, access=access, item=item,
                           shown=procedures.shown)


@bp.route("/aide")
def help_page():
    return render_template("eservices/help.html")


@bp.route("/administration")
@login_required
def administration():
    return redirect(idp_url("/organisations/console"))


def support_messages() -> services.SupportMessages:
    acknowledgment = (
        _("Votre demande d'assistance %(ref)s"),
        _("Bonjour,\n\nNous avons bien reçu votre demande d'assistance, enregistrée sous la référence "
          "%(ref)s. Nous vous répondrons à cette adresse.\n\nLe portail e-services des organisations"))
    # the desk reads French; what the requester typed is quoted below the fixed lines, never in the subject
    desk = ("[%(ref)s] Demande d'assistance (%(topic)s)",
            "Demande d'assistance %(ref)s reçue par le portail e-services.\n\n"
            "Objet : %(topic)s\nNom : %(name)s\nAdresse électronique (répondre à) : %(email)s\n"
            "Organisation : %(organisation)s\nConnecté(e) : %(signed_in)s\nPage : %(page)s\nLangue : %(locale)s\n\n"
            "Message :\n%(message)s\n\n-- \nListe des demandes ouvertes : flask --app portals.eservices support list")
    return services.SupportMessages(acknowledgment, desk, current_app.config["SUPPORT_ADDRESS"])


@bp.route("/assistance", methods=["GET", "POST"])
def support():
    if request.method == "GET":
        return render_template("eservices/support.html", support_errors={}, support_form={})
    form = request.form.to_dict()
    codes = services.check_support(form)
    if codes:
        messages = {
            "support_name": _("Indiquez votre nom"), "support_email": _("Indiquez une adresse électronique valide"),
            "support_topic": _("Choisissez l'objet de votre demande"),
            "support_message": _("Décrivez votre demande (5000 caractères au plus)"),
        }
        return render_template("eservices/support.html", support_errors={k: messages[k] for k in codes},
                               support_form=form), 400
    with get_db().session() as session:
        record = services.create_support_request(session, form, current_principal(),
                                                 safe_local_path(form.get("page"), "/"), support_messages(), locale())
    return render_template("eservices/support_sent.html", reference=record.reference)


@bp.route("/representant-legal", methods=["GET", "POST"])
def legal_representative():
    if request.method == "GET":
        return render_template("eservices/legal_rep.html", form={}, outcome=None, message=None, errors={})
    form = request.form.to_dict()
    errors = {name: label for name, label in (("reference", _("Indiquez la référence du courrier")),
                                              ("code_1", _("Indiquez le code de confirmation n° 1")),
                                              ("code_2", _("Indiquez le code de confirmation n° 2")))
              if not (form.get(name) or "").strip()}
    if errors:
        return render_template("eservices/legal_rep.html", form=form, outcome=None, message=None, errors=errors), 400
    answer = permission_client().confirm_codes(form["reference"], form["code_1"], form["code_2"])
    outcome = answer.get("outcome") if answer else None
    messages = {
        "validated": _("Les codes sont corrects : l'administrateur est validé et peut désormais gérer "
                       "l'organisation sur le portail e-services."),
        "already": _("Cette demande a déjà été validée."),
        "wrong": _("Les codes saisis ne correspondent pas à cette référence. Vérifiez-les sur le courrier et "
                   "recommencez."),
        "unknown": _("Les codes saisis ne correspondent pas à cette référence. Vérifiez-les sur le courrier et "
                     "recommencez."),
        "expired": _("Ces codes ont expiré. Le futur administrateur doit renouveler son inscription pour qu'un "
                     "nouveau courrier vous soit envoyé."),
        "superseded": _("Ce courrier a été remplacé par une demande plus récente : utilisez les codes du dernier "
                        "courrier reçu."),
        "locked": _("Trop d'essais erronés pour cette demande. Envoyez une demande d'assistance via le "
                    "formulaire en bas de page."),
    }
    if outcome is None:
        return render_error(503, _("Service momentanément indisponible"),
                            _("Les codes n'ont pas pu être vérifiés. Réessayez dans quelques minutes."))
    status = 200 if outcome in ("validated", "already") else 400
    message = messages.get(outcome, messages["wrong"])
    if status == 200 and answer.get("administrator"):  # whom the codes validated, now they were right
        message = _("Les codes sont corrects : %(person)s est désormais l'administrateur de « %(org)s » et peut "
                    "gérer l'organisation sur le portail e-services. Si vous ne connaissez pas cette personne, "
                    "faites une demande d'assistance sans attendre.", person=answer["administrator"],
                    org=answer.get("organisation", ""))
    return render_template("eservices/legal_rep.html", form=form, outcome=outcome, message=message,
                           errors={}), status
