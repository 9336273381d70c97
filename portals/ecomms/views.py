"""eComms pages (thin): applications list, Inbox / Sent items, sending, documents, receipts,
the registry's actions, Help and terms. Flows live in ``services``; files in ``storage``."""

from __future__ import annotations

import io
from urllib.parse import unquote

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from portals.ecomms import receipts, services, storage
from portals.ecomms.models import Application
from portals.ecomms.services import DOC_TYPES, FormErrors, Incoming, Refused
from shared.appkit import get_db
from shared.rp import current_principal, login_required
from shared.timeutil import strasbourg_now

bp = Blueprint("ecomms", __name__)
MAX_FORM_FILES = 3  # rows of the no-JavaScript form; with JavaScript, any number

DOC_TYPE_LABELS = {
    "observations": _l("Observations"),
    "letter": _l("Lettre"),
    "form": _l("Formulaire de requête"),
    "power_of_attorney": _l("Pouvoir"),
    "annex": _l("Annexe"),
    "other": _l("Autre"),
}
REFUSALS = {
    "no_file": _l("Choisissez au moins un document PDF."),
    "path_in_name": _l("« %(name)s » : le nom du fichier ne doit pas contenir de chemin (/ ou \\)."),
    "not_ascii": _l("« %(name)s » : le nom du fichier doit être composé de caractères ASCII uniquement "
                    "(pas d'accents, de caractères cyrilliques ni d'autres caractères étendus)."),
    "name_too_long": _l("« %(name)s » : le nom du fichier est trop long (200 caractères au plus)."),
    "empty": _l("« %(name)s » est vide."),
    "not_pdf": _l("« %(name)s » n'est pas un document PDF lisible. Vous ne pouvez envoyer que des documents PDF."),
    "too_large": _l("Un document dépasse 50 Mo : vous ne pouvez envoyer que des documents PDF de 50 Mo au maximum."),
    "doc_type": _l("« %(name)s » : choisissez le type du document."),
    "confirm": _l("Cochez la case pour confirmer l'envoi à la Cour."),
    "upload_expired": _l("Un document téléchargé n'est plus disponible : ajoutez-le à nouveau."),
    "pdf_too_complex": _l("« %(name)s » est trop complexe pour être vérifié. Enregistrez-le de nouveau au format PDF "
                          "(par exemple avec « Imprimer » puis « Enregistrer au format PDF ») et envoyez-le à nouveau."),
    "staged_quota": _l("Vous avez déjà le maximum de documents en attente d'envoi (%(files)s documents ou "
                       "%(mb)s Mo) : envoyez-les ou retirez-en avant d'en ajouter d'autres."),
    "daily_quota": _l("La limite d'envoi est atteinte (%(files)s documents ou %(mb)s Mo en 24 heures, pour vous comme "
                      "pour une requête) : réessayez demain ou contactez le greffe."),
}
FORM_MESSAGES = {
    "number": _l("Saisissez un numéro de requête comme 123/16."),
    "number_taken": _l("Une requête porte déjà ce numéro."),
    "required": _l("Saisissez l'intitulé de la requête."),
    "email": _l("Saisissez l'adresse électronique du requérant."),
}


def refusal_text(refusal: Refused) -> str:
    return str(REFUSALS[refusal.code]) % {"name": refusal.name, **refusal.values}


def refusal_status(refusal: Refused) -> int:
    return 429 if refusal.code.endswith("_quota") else 400


@bp.app_context_processor
def ecomms_context():
    return {"doc_type_labels": DOC_TYPE_LABELS, "is_registry": services.is_registry(current_principal()),
            "strasbourg_now": strasbourg_now()}


# -- pages -----------------------------------------------------------------------------------------

@bp.get("/")
def home():
    principal = current_principal()
    if principal is None:
        return render_template("ecomms/landing.html")
    with get_db().session() as session:
        applications = services.applications_of(session, principal)
        return render_template("ecomms/applications.html", applications=applications, selected=None)


@bp.get("/applications/<application_id>")
@login_required
def application(application_id: str):
    principal = current_principal()
    tab = "sent" if request.args.get("tab") == "sent" else "inbox"
    with get_db().session() as session:
        selected = _visible(session, principal, application_id)
        documents = [d for d in selected.documents if d.direction == ("to_court" if tab == "sent" else "from_court")]
        return render_template("ecomms/applications.html", applications=services.applications_of(session, principal),
                               selected=selected, tab=tab, documents=documents, expires_on=services.expires_on)


def _visible(session, principal, application_id: str) -> Application:
    try:
        return services.application_for(session, principal, application_id)
    except Refused:
        abort(404)


@bp.route("/applications/<application_id>/send", methods=["GET", "POST"])
@login_required
def send(application_id: str):
    principal = current_principal()
    errors: list[str] = []
    status = 200
    with get_db().session() as session:
        selected = _visible(session, principal, application_id)
        if request.method == "POST":
            try:
                incoming = _incoming_files(principal, selected)
                if request.form.get("confirm") != "yes":
                    raise Refused("confirm")
                documents = services.deposit(session, principal, selected, incoming, "to_court")
            except Refused as refusal:  # the request's temporary files go at teardown
                errors.append(refusal_text(refusal))
                status = refusal_status(refusal)
            else:
                session.flush()
                names = ", ".join(d.stored_name for d in documents)
                flash(_("Votre envoi a bien été reçu par la Cour : %(names)s. Il est horodaté à l'heure de Strasbourg ; "
                        "votre accusé de dépôt est disponible dans Éléments envoyés.", names=names), "success")
                return redirect(url_for("ecomms.application", application_id=selected.id, tab="sent"))
        return render_template("ecomms/send.html", selected=selected, errors=errors, doc_types=DOC_TYPES,
                               rows=range(1, MAX_FORM_FILES + 1)), status


def _incoming_files(principal, selected) -> list[Incoming]:
    """Files of the plain multipart form, or the XHR-staged uploads the JavaScript form names."""
    incoming = [services.staged_upload(principal, selected, upload_id, request.form.get(f"type_{upload_id}", ""))
                for upload_id in request.form.getlist("upload_ids")]
    for row in range(1, MAX_FORM_FILES + 1):
        upload = request.files.get(f"file_{row}")
        if upload is None or not upload.filename:
            continue
        item = Incoming(temp=upload.stream, name=upload.filename, doc_type=request.form.get(f"type_{row}", ""))
        incoming.append(services.accept(item))
    if not incoming:
        raise Refused("no_file")
    return incoming


@bp.post("/applications/<application_id>/uploads")
@login_required
def upload(application_id: str):
    """One file per request (the JavaScript form's progress bars): raw PDF body, name in X-File-Name."""
    principal = current_principal()
    with get_db().session() as session:
        selected = _visible(session, principal, application_id)
    if (request.content_length or 0) > storage.MAX_BYTES:
        return jsonify(error=refusal_text(Refused("too_large"))), 413
    name = unquote(request.headers.get("X-File-Name", ""))
    try:
        upload_id, item = services.stage_upload(principal, selected, name, request.stream, request.content_length)
    except storage.TooLarge:
        return jsonify(error=refusal_text(Refused("too_large"))), 413
    except Refused as refusal:
        return jsonify(error=refusal_text(refusal)), refusal_status(refusal)
    return jsonify(id=upload_id, name=name, size=item.size), 201


@bp.delete("/applications/<application_id>/uploads/<upload_id>")
@login_required
def remove_upload(application_id: str, upload_id: str):
    """"Retirer" in the JavaScript form: the staged file goes, and its place in the quota."""
    principal = current_principal()
    with get_db().session() as session:
        selected = _visible(session, principal, application_id)
    if not services.unstage(principal, selected, upload_id, remove_file=True):
        abort(404)
    return "", 204


@bp.get("/documents/<document_id>")
@login_required
def document(document_id: str):
    with get_db().session() as session:
        try:
            found = services.document_for(session, current_principal(), document_id)
        except Refused:
            abort(404)
        path = storage.path_of(services.storage_folder(), found.storage_key)
        name = found.stored_name
    return send_file(path, mimetype="application/pdf", as_attachment=request.args.get("download") == "1",
                     download_name=name, max_age=0)


@bp.get("/documents/<document_id>/receipt")
@login_required
def receipt(document_id: str):
    with get_db().session() as session:
        try:
            found = services.document_for(session, current_principal(), document_id)
        except Refused:
            abort(404)
        if found.direction != "to_court":
            abort(404)
        signed = services.receipt_for(found, found.application)
        name = found.stored_name.rsplit(".", 1)[0]
    # send_file quotes the name (RFC 6266; filename* when it is not ASCII): a quote or a semicolon
    # in what the applicant called the file stays part of the name
    return send_file(io.BytesIO(signed.encode() + b"\n"), mimetype="application/jose", as_attachment=True,
                     download_name=f"receipt-{name}.jws", max_age=0)


@bp.route("/receipts/verify", methods=["GET", "POST"])
def verify_receipt():
    result = None
    if request.method == "POST":
        text = request.form.get("receipt", "")
        upload = request.files.get("receipt_file")
        if upload and upload.filename:
            text = upload.read(20000).decode("ascii", "replace")
        result = receipts.verify(text, receipts.public_jwks(str(services.keys_folder())))
        if result is None:
            return render_template("ecomms/verify.html", invalid=True), 400
    return render_template("ecomms/verify.html", result=result)


@bp.get("/.well-known/jwks.json")
def jwks():
    return jsonify(receipts.public_jwks(str(services.keys_folder())))


@bp.get("/help")
def help_page():
    return render_template("ecomms/help.html")


@bp.get("/terms")
def terms():
    return render_template("ecomms/terms.html")


# -- the Court's registry --------------------------------------------------------------------------

def registry_only():
    principal = current_principal()
    if not services.is_registry(principal):
        abort(403)
    return principal


@bp.route("/registry/applications/new", methods=["GET", "POST"])
@login_required
def new_application():
    principal = registry_only()
    errors, form = {}, {}
    if request.method == "POST":
        form = {k: request.form.get(k, "") for k in ("number", "title", "applicant_email", "locale")}
        try:
            with get_db().session() as session:
                created = services.create_application(session, principal, form["number"], form["title"],
                                                      form["applicant_email"],
                                                      form["locale"] if form["locale"] in ("fr", "en") else "fr")
                created_id = created.id
        except FormErrors as problems:
            errors = {field: str(FORM_MESSAGES[code]) for field, code in problems.errors.items()}
        except Exception as error:  # the IdP is unreachable: nothing was written
            current_app.logger.warning("provisioning failed: %s", error)
            errors = {"applicant_email": _("Le service d'identification ne répond pas : réessayez dans un instant.")}
        else:
            flash(_("La requête a été créée ; le requérant en est informé par courriel."), "success")
            return redirect(url_for("ecomms.application", application_id=created_id))
    return render_template("ecomms/new_application.html", errors=errors, form=form), (400 if errors else 200)


@bp.post("/registry/applications/<application_id>/documents")
@login_required
def court_sends(application_id: str):
    principal = registry_only()
    with get_db().session() as session:
        selected = _visible(session, principal, application_id)
        try:
            incoming = _incoming_files(principal, selected)
            services.deposit(session, principal, selected, incoming, "from_court")
        except Refused as refusal:
            flash(refusal_text(refusal), "error")
        else:
            flash(_("Le document a été déposé dans la Boîte de réception du requérant, qui en est informé."), "success")
        return redirect(url_for("ecomms.application", application_id=selected.id))


@bp.post("/registry/applications/<application_id>/close")
@login_required
def close(application_id: str):
    principal = registry_only()
    with get_db().session() as session:
        selected = _visible(session, principal, application_id)
        count = services.close_application(session, selected)
    flash(_("La requête est close ; %(count)s document(s) supprimé(s).", count=count), "success")
    return redirect(url_for("ecomms.home"))
