"""eComms pages (thin): applications list, Inbox / Sent items, sending, documents, receipts,
the registry's actions, Help and terms. Flows live in ``services``; files in ``storage``."""

from __future__ import annotations

import io
import re
from urllib.parse import unquote

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    g,
    jsonify,
    make_response,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_babel import format_decimal
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from markupsafe import Markup

from portals.ecomms import attachment, pades, parties, receipts, resumable, services, storage
from portals.ecomms.models import Application
from portals.ecomms.services import DOC_TYPES, FormErrors, Incoming, Refused
from shared.appkit import get_db
from shared.i18n import LANGUAGES
from shared.rp import current_principal, login_required
from shared.timeutil import strasbourg_now
from shared.tokens import TokenError
from shared.web import csrf

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
    "doc_type": _l("Choisissez le type de chaque document : « %(name)s » n'en a pas encore."),
    "confirm": _l("Cochez la case de confirmation pour envoyer vos documents à la Cour."),
    "upload_expired": _l("Un document téléchargé n'est plus disponible : ajoutez-le à nouveau."),
    "pdf_too_complex": _l("« %(name)s » est trop complexe pour être vérifié. Enregistrez-le de nouveau au format PDF "
                          "(par exemple avec « Imprimer » puis « Enregistrer au format PDF ») et envoyez-le à nouveau."),
    "staged_quota": _l("Vous avez déjà le maximum de documents en attente d'envoi (%(files)s documents ou "
                       "%(mb)s Mo) : envoyez-les ou retirez-en avant d'en ajouter d'autres."),
    "not_pdf_name": _l("« %(name)s » : le nom d'un document PDF se termine par .pdf. Vous ne pouvez envoyer que des "
                       "documents PDF."),
    "encrypted": _l("« %(name)s » est protégé par un mot de passe : la Cour ne pourrait pas l'ouvrir. Enregistrez-le "
                    "sans mot de passe (par exemple avec « Imprimer » puis « Enregistrer au format PDF ») et envoyez-le "
                    "à nouveau."),
    "duplicate": _l("« %(name)s » a déjà été envoyé pour cette requête (%(existing)s) : retirez-le, il n'est pas "
                    "envoyé une seconde fois."),
    "closed": _l("Cette requête a été close par la Cour : elle n'accepte plus de documents et ses documents ne sont "
                 "plus disponibles dans eComms. Vos documents non envoyés n'ont pas été transmis."),
    "already_sent": _l("Ce(s) document(s) ont déjà été envoyés à la Cour (le formulaire a été envoyé deux fois) : "
                       "voyez Éléments envoyés."),
    "close_confirmation": _l("Saisissez exactement le numéro de la requête pour confirmer sa clôture."),
    "not_found": _l("Cette page n'existe pas ou ne vous est pas accessible."),
    "server_error": _l("Une erreur technique nous a empêchés de traiter votre demande ; rien n'a été enregistré. "
                       "Réessayez dans un instant. En cas d'urgence (délai à respecter), envoyez vos documents par "
                       "fax au +33 (0)3 88 41 27 30."),
    "bad_upload": _l("Le navigateur a envoyé une demande de téléchargement incomplète : rechargez la page et ajoutez "
                      "le document à nouveau."),
    "too_long": _l("Le document reçu est plus long que celui annoncé : ajoutez-le à nouveau."),
    "offset_mismatch": _l("Le téléchargement a repris au mauvais endroit : il reprend automatiquement là où la Cour "
                          "l'a reçu."),
    "upload_busy": _l("Ce document est déjà en cours de téléchargement : patientez un instant."),
    "checksum_mismatch": _l("Une partie du document a été altérée pendant le transfert : elle est envoyée à "
                            "nouveau."),
    "daily_quota": _l("La limite d'envoi est atteinte (%(files)s documents ou %(mb)s Mo en 24 heures, pour vous comme "
                      "pour une requête) : réessayez demain ou contactez le greffe."),
}
# A form only missing a type or the box was not refused by the Court: its heading says what is left
# to do, not the alarming "not received" of a file refused.
INCOMPLETE_TITLES = {
    frozenset({"doc_type"}): _l("Choisissez le type de chaque document"),
    frozenset({"confirm"}): _l("Cochez la case de confirmation"),
    frozenset({"doc_type", "confirm"}): _l("Choisissez le type de chaque document et cochez la case de confirmation"),
}
FORM_MESSAGES = {
    "number": _l("Saisissez un numéro de requête comme 123/16."),
    "number_taken": _l("Une requête porte déjà ce numéro."),
    "required": _l("Saisissez l'intitulé de la requête."),
    "email": _l("Saisissez l'adresse électronique du requérant."),
}


def refusal_text(refusal: Refused) -> str:
    return str(REFUSALS[refusal.code]) % {"name": refusal.name, **refusal.values}


def errors_title(refusals: list[Refused]) -> str | None:
    """The send page's error heading when the form is only incomplete (``None``: the usual one)."""
    title = INCOMPLETE_TITLES.get(frozenset(r.code for r in refusals))
    return str(title) if title else None


def refusal_status(refusal: Refused) -> int:
    return 429 if refusal.code.endswith("_quota") else 400


@bp.before_app_request
def applicant_language():
    """Below the person's explicit choice (the switch, ?lang=): their account's language (the
    invitation's), then their browser's; French when neither says."""
    principal = current_principal()
    wished = [principal.claims["locale"]] if principal and principal.claims.get("locale") else []
    browser = request.accept_languages.best_match(LANGUAGES)
    g.ui_locales = wished + ([browser] if browser else [])


@bp.app_context_processor
def ecomms_context():
    return {"doc_type_labels": DOC_TYPE_LABELS, "is_registry": services.is_registry(current_principal()),
            "strasbourg_now": strasbourg_now(), "file_size": file_size, "breakable": breakable}


def breakable(name: str) -> Markup:
    """A file name that a narrow column breaks after its separators (``4567-24_observations.pdf`` as
    ``4567-24_`` / ``observations.pdf``), never inside a word: ``<wbr>`` after each ``_``, ``-``, ``.``."""
    return Markup("<wbr>").join(re.split(r"(?<=[_.-])", name))  # join escapes each part


# -- pages -----------------------------------------------------------------------------------------

@bp.get("/")
def home():
    principal = current_principal()
    if principal is None:
        return render_template("ecomms/landing.html")
    with get_db().session() as session:
        parties.note_seen(session, principal.sub)  # the registry sees the invitation accepted
        applications = services.applications_of(session, principal)
        return render_template("ecomms/applications.html", applications=applications, selected=None)


@bp.get("/applications/<application_id>")
@login_required
def application(application_id: str):
    principal = current_principal()
    tab = "sent" if request.args.get("tab") == "sent" else "inbox"
    with get_db().session() as session:
        parties.note_seen(session, principal.sub)
        selected = _visible(session, principal, application_id)
        documents = services.documents_of(selected, principal, "to_court" if tab == "sent" else "from_court")
        return render_template("ecomms/applications.html", applications=services.applications_of(session, principal),
                               selected=selected, tab=tab, documents=documents, expires_on=services.expires_on,
                               is_new=lambda d: services.is_new(d, principal))


def wants_json() -> bool:
    return request.accept_mimetypes.best == "application/json" or "/uploads" in request.path


def refused_response(refusal: Refused, status: int):
    """A refusal as the caller understands it: JSON for the upload script, else a page."""
    if wants_json():
        return make_response(jsonify(error=refusal_text(refusal)), status)
    title = _("Requête close") if refusal.code == "closed" else None
    return make_response(render_template("ecomms/refused.html", message=refusal_text(refusal), title=title), status)


def _visible(session, principal, application_id: str) -> Application:
    try:
        return services.application_for(session, principal, application_id)
    except Refused as refusal:
        if refusal.code == "closed":  # the applicant's own application, closed meanwhile: say so
            abort(refused_response(refusal, 410))
        abort(404)


@bp.route("/applications/<application_id>/send", methods=["GET", "POST"])
@login_required
def send(application_id: str):
    principal = current_principal()
    refusals: list[Refused] = []
    staged: list[Incoming] = []
    removed = None
    with get_db().session() as session:
        selected = _visible(session, principal, application_id)
        if selected.status != "open":
            abort(refused_response(Refused("closed"), 410))
        if request.method == "POST" and request.form.get("remove"):
            staged, refusals, removed = _remove_kept(principal, selected, request.form["remove"])
        elif request.method == "POST":
            staged, refusals = _incoming_files(principal, selected)
            if request.form.get("confirm") != "yes":
                refusals.append(Refused("confirm"))
            if not refusals:
                try:
                    documents = services.deposit(session, principal, selected, staged, "to_court")
                except Refused as refusal:
                    refusals.append(refusal)
                else:
                    session.flush()
                    names = ", ".join(d.stored_name for d in documents)
                    flash(_("Votre envoi a bien été reçu par la Cour : %(names)s. Il est horodaté à l'heure de "
                            "Strasbourg ; votre accusé de dépôt est disponible dans Éléments envoyés.", names=names),
                          "success")
                    return redirect(url_for("ecomms.application", application_id=selected.id, tab="sent"))
        # every file that was received stays staged and listed: a refusal never throws it away
        status = max((refusal_status(r) for r in refusals), default=200)
        return render_template("ecomms/send.html", selected=selected, errors=[refusal_text(r) for r in refusals],
                               errors_title=errors_title(refusals),
                               doc_types=DOC_TYPES, rows=range(1, MAX_FORM_FILES + 1), removed=removed,
                               type_options=[(code, DOC_TYPE_LABELS[code]) for code in DOC_TYPES],
                               staged=[i for i in staged if i.upload_id]), status


def file_size(size: int) -> str:
    """``0,3 Ko`` / ``0.3 KB``: a file's size as the person reads it, the same in every list and row
    (ecomms.js writes an uploading file's size the same way)."""
    return _("%(size)s Ko", size=format_decimal(size / 1024, format="0.0"))


def _remove_kept(principal, selected, upload_id: str) -> tuple[list[Incoming], list[Refused], str | None]:
    """"Retirer" without JavaScript: the form comes back with the other files, their types as chosen,
    and that one file gone (its place in the quota too). Nothing is sent, nothing else is refused."""
    staged, refusals = _incoming_files(principal, selected)
    refusals = [r for r in refusals if r.code not in ("doc_type", "no_file")]
    taken = next((i for i in staged if i.upload_id == upload_id), None)
    if taken is None or not services.unstage(principal, selected, upload_id, remove_file=True):
        return staged, refusals, None
    return [i for i in staged if i.upload_id != upload_id], refusals, taken.name


def _incoming_files(principal, selected) -> tuple[list[Incoming], list[Refused]]:
    """The XHR-staged uploads the form names and the plain multipart form's files (staged in turn),
    each with the type chosen for it; and what was refused (a bad file, a missing type)."""
    incoming: list[Incoming] = []
    refusals: list[Refused] = []
    for upload_id in request.form.getlist("upload_ids"):
        try:
            incoming.append(services.staged_upload(principal, selected, upload_id,
                                                   request.form.get(f"type_{upload_id}", "")))
        except Refused as refusal:
            refusals.append(refusal)
    for row in range(1, MAX_FORM_FILES + 1):
        upload = request.files.get(f"file_{row}")
        if upload is None or not upload.filename:
            continue
        try:
            item = services.stage_received(principal, selected, upload.stream, upload.filename)
        except Refused as refusal:
            refusals.append(refusal)
            continue
        item.doc_type = request.form.get(f"type_{row}", "")
        incoming.append(item)
    if not incoming and not refusals:
        refusals.append(Refused("no_file"))
    refusals += [Refused("doc_type", i.name) for i in incoming if i.doc_type not in DOC_TYPES]
    return incoming, refusals


@bp.post("/applications/<application_id>/uploads")
@login_required
def upload(application_id: str):
    """One file per request (raw PDF body, name in X-File-Name), or, with ``Upload-Length``, the
    creation of a resumable upload (tus): its pieces follow by PATCH."""
    principal = current_principal()
    with get_db().session() as session:
        selected = _visible(session, principal, application_id)
    if "Upload-Length" in request.headers:
        return _begin_resumable(principal, selected)
    if (request.content_length or 0) > storage.MAX_BYTES:
        return refused_response(Refused("too_large"), 413)
    name = unquote(request.headers.get("X-File-Name", ""))
    try:
        upload_id, item = services.stage_upload(principal, selected, name, request.stream, request.content_length)
    except storage.TooLarge:
        return refused_response(Refused("too_large"), 413)
    except Refused as refusal:
        return refused_response(refusal, _upload_status(refusal))
    return jsonify(id=upload_id, name=name, size=item.size), 201


UPLOAD_STATUS = {"closed": 410, "too_large": 413, "too_long": 413, "not_found": 404, "upload_expired": 410,
                 "offset_mismatch": 409, "upload_busy": 423, "checksum_mismatch": 460}


def _upload_status(refusal: Refused) -> int:
    return UPLOAD_STATUS.get(refusal.code, refusal_status(refusal))


def _tus(response, upload=None):
    response.headers["Tus-Resumable"] = resumable.VERSION
    response.headers["Cache-Control"] = "no-store"
    if upload is not None:
        response.headers["Upload-Offset"] = str(upload.offset)
        response.headers["Upload-Length"] = str(upload.length)
    return response


def _tus_refused(refusal: Refused):
    response = refused_response(refusal, _upload_status(refusal))
    if refusal.code == "offset_mismatch":
        response.headers["Upload-Offset"] = str(refusal.values["offset"])
    return _tus(response)


def _whole_number(value: str) -> int:
    """A tus offset or length: digits only (no sign, no spaces), else ValueError."""
    if not value.isascii() or not value.isdigit() or len(value) > 12:
        raise ValueError(value)
    return int(value)


def _begin_resumable(principal, selected):
    if request.headers.get("Tus-Resumable") != resumable.VERSION:
        return _tus(make_response(jsonify(error=refusal_text(Refused("bad_upload"))), 412))
    try:
        length = _whole_number(request.headers["Upload-Length"])
        name = resumable.parse_metadata(request.headers.get("Upload-Metadata", "")).get("filename", "")
        created = resumable.begin(principal, selected, name, length)
    except ValueError:
        return _tus_refused(Refused("bad_upload"))
    except Refused as refusal:
        return _tus_refused(refusal)
    response = make_response(jsonify(id=created.id, name=created.name, size=created.length), 201)
    response.headers["Location"] = url_for("ecomms.resumable_upload", application_id=selected.id,
                                           upload_id=created.id)
    return _tus(response, created)


@bp.route("/applications/<application_id>/uploads/<upload_id>", methods=["HEAD", "PATCH"])
@login_required
def resumable_upload(application_id: str, upload_id: str):
    """tus: HEAD tells the offset the server holds; PATCH appends a piece at exactly that offset."""
    principal = current_principal()
    with get_db().session() as session:
        selected = _visible(session, principal, application_id)
    try:
        if request.method == "HEAD":
            return _tus(make_response("", 200), resumable.status(principal, selected, upload_id))
        if request.headers.get("Content-Type") != "application/offset+octet-stream":
            return _tus(make_response(jsonify(error=refusal_text(Refused("bad_upload"))), 415))
        offset = _whole_number(request.headers.get("Upload-Offset", ""))
        piece = resumable.append(principal, selected, upload_id, offset, request.stream,
                                 resumable.parse_checksum(request.headers.get("Upload-Checksum")))
    except ValueError:
        return _tus_refused(Refused("bad_upload"))
    except Refused as refusal:
        return _tus_refused(refusal)
    if piece.complete:
        return _tus(make_response(jsonify(id=piece.id, name=piece.name, size=piece.offset), 200), piece)
    return _tus(make_response("", 204), piece)


@bp.delete("/applications/<application_id>/uploads/<upload_id>")
@login_required
def remove_upload(application_id: str, upload_id: str):
    """"Retirer" or "Annuler" in the JavaScript form: the staged or half-received file goes, and its place
    in the quota (tus termination)."""
    principal = current_principal()
    with get_db().session() as session:
        selected = _visible(session, principal, application_id)
    if not (resumable.cancel(principal, selected, upload_id)
            or services.unstage(principal, selected, upload_id, remove_file=True)):
        abort(404)
    return _tus(make_response("", 204))


@bp.get("/documents/<document_id>")
@login_required
def document(document_id: str):
    with get_db().session() as session:
        try:
            found = services.document_for(session, current_principal(), document_id)
        except Refused:
            abort(404)
        services.mark_read(found, current_principal())
        path = storage.path_of(services.storage_folder(), found.storage_key)
        name = found.stored_name
    return send_file(path, mimetype="application/pdf", as_attachment=request.args.get("download") == "1",
                     download_name=name, max_age=0)


def _filed_document(session, document_id: str):
    """A document filed to the Court that this person may see (its receipts), else 404."""
    try:
        found = services.document_for(session, current_principal(), document_id)
    except Refused:
        abort(404)
    if found.direction != "to_court":
        abort(404)
    return found


@bp.get("/documents/<document_id>/receipt")
@login_required
def receipt(document_id: str):
    with get_db().session() as session:
        found = _filed_document(session, document_id)
        signed = services.receipt_for(found, found.application)
        name = found.stored_name.rsplit(".", 1)[0]
    # send_file quotes the name (RFC 6266; filename* when it is not ASCII): a quote or a semicolon
    # in what the applicant called the file stays part of the name
    return send_file(io.BytesIO(signed.encode() + b"\n"), mimetype="application/jose", as_attachment=True,
                     download_name=f"receipt-{name}.jws", max_age=0)


@bp.get("/documents/<document_id>/receipt.pdf")
@login_required
def pdf_receipt(document_id: str):
    """The signed PDF receipt of the deposit this document was part of (the filer and the registry)."""
    with get_db().session() as session:
        found = _filed_document(session, document_id)
        name, signed = services.pdf_receipt_for(found, {code: str(label) for code, label in DOC_TYPE_LABELS.items()})
    return send_file(io.BytesIO(signed), mimetype="application/pdf", as_attachment=True, download_name=name,
                     max_age=0)


@bp.get("/.well-known/receipt-ca.pem")
def receipt_trust_root():
    """The root that the PDF receipts' signatures chain to (to import into a PDF reader's trusted certificates)."""
    found = pades.material(str(services.keys_folder()))
    return current_app.response_class(found.trust_root_pem, mimetype="application/x-pem-file")


@bp.route("/receipts/verify", methods=["GET", "POST"])
def verify_receipt():
    result = None
    if request.method == "POST":
        text = request.form.get("receipt", "")
        upload = request.files.get("receipt_file")
        if upload and upload.filename:
            head = upload.read(20000)
            if head.startswith(b"%PDF"):  # the signed PDF receipt: its reader checks it (outside review)
                return render_template("ecomms/verify.html", pdf_given=True), 400
            text = head.decode("ascii", "replace")
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
        incoming, refusals = _incoming_files(principal, selected)
        if not refusals:
            try:
                services.deposit(session, principal, selected, incoming, "from_court")
            except Refused as refusal:
                refusals.append(refusal)
        if refusals:
            for item in incoming:  # the registry's form starts again: nothing left staged
                services.unstage(principal, selected, item.upload_id, remove_file=True)
            for refusal in refusals:
                flash(refusal_text(refusal), "error")
        else:
            flash(_("Le document a été déposé dans la Boîte de réception du requérant, qui en est informé."), "success")
        return redirect(url_for("ecomms.application", application_id=selected.id))


@bp.route("/registry/applications/<application_id>/close", methods=["GET", "POST"])
@login_required
def close(application_id: str):
    """A danger zone: the page names what closing deletes and asks for the application's number."""
    principal = registry_only()
    error = None
    with get_db().session() as session:
        selected = _visible(session, principal, application_id)
        if selected.status != "open":
            return redirect(url_for("ecomms.application", application_id=selected.id))
        if request.method == "POST":
            try:
                count = services.close_application(session, selected, request.form.get("confirm_number", ""))
            except Refused as refusal:
                error = refusal_text(refusal)
            else:
                flash(_("La requête n° %(number)s est close ; %(count)s document(s) supprimé(s) ou à supprimer à la fin "
                        "du délai de téléchargement. Le requérant en est informé.", number=selected.number, count=count),
                      "success")
                return redirect(url_for("ecomms.home"))
        return render_template("ecomms/close.html", selected=selected, error=error,
                               summary=services.closing_summary(selected), grace_days=services.grace_days()), \
            (400 if error else 200)


# -- the IdP's account events --------------------------------------------------------------------------

@bp.post("/account-events")
@csrf.exempt
def account_events():
    """RFC 8935 push delivery of the IdP's Security Event Tokens (an address change detaches)."""
    rp = current_app.extensions["rp"]
    try:
        claims = attachment.verify_event(request.get_data(as_text=True), rp.provider, rp.client_id)
    except TokenError as error:
        current_app.logger.warning("account event refused: %s", error.reason)
        return jsonify(err="invalid_request", description=error.reason), 400
    if not current_app.extensions["rp_sessions"].remember_once(f"set:{claims['jti']}", attachment.SET_MAX_AGE):
        return "", 202  # delivered twice (a retry): already done
    subject = claims["events"][attachment.IDENTIFIER_CHANGED]["subject"]
    with get_db().session() as session:
        detached = parties.detach_subject(session, subject["sub"])
    current_app.extensions["rp_sessions"].end_matching(None, subject["sub"])
    current_app.logger.info("address change: %s application(s) detached", len(detached))
    return "", 202
