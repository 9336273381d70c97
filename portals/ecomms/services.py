"""eComms flows (seed 000): the registry opens applications and sends documents; applicants read
their Inbox and deposit PDFs; every rule of the FAQ; notifications through the outbox."""

from __future__ import annotations

import json
import re
import secrets
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import requests
from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session

from portals.ecomms import pdfcheck, quotas, receipts, storage
from portals.ecomms.models import Application, Document, OutboxMessage
from shared.appkit import get_redis, get_settings
from shared.outbox import queue_email
from shared.rp.session import Principal
from shared.timeutil import format_strasbourg, to_strasbourg, utcnow

NUMBER_RE = re.compile(r"^[1-9][0-9]{0,6}/[0-9]{2}$")
DOC_TYPES = ("observations", "letter", "form", "power_of_attorney", "annex", "other")
RETENTION = timedelta(days=365)
REGISTRY_ROLE = "registry"


class Refused(Exception):
    """A rule refused the request; ``code`` names it (the views word it in the user's language,
    with ``name`` and ``values`` such as a quota's bounds)."""

    def __init__(self, code: str, name: str = "", **values: object):
        super().__init__(code)
        self.code, self.name, self.values = code, name, values


def is_registry(principal: Principal | None) -> bool:
    return bool(principal and REGISTRY_ROLE in (principal.claims.get("roles") or []))


# -- reading ---------------------------------------------------------------------------------------

def applications_of(session: Session, principal: Principal) -> list[Application]:
    query = select(Application).order_by(Application.created_at.desc())
    if not is_registry(principal):
        query = query.where(Application.applicant_sub == principal.sub, Application.status == "open")
    return list(session.scalars(query))


def application_for(session: Session, principal: Principal, application_id: str) -> Application:
    """The application if this person may see it; otherwise Refused("not_found") (no hint it exists)."""
    application = session.get(Application, application_id)
    if application is None:
        raise Refused("not_found")
    if is_registry(principal):
        return application
    if application.applicant_sub != principal.sub or application.status != "open":
        raise Refused("not_found")
    return application


def document_for(session: Session, principal: Principal, document_id: str) -> Document:
    document = session.get(Document, document_id)
    if document is None:
        raise Refused("not_found")
    application_for(session, principal, document.application_id)
    return document


def storage_folder() -> Path:
    return Path(get_settings().instance_path) / "ecomms-documents"


# -- the rules of the FAQ --------------------------------------------------------------------------

def check_file_name(name: str | None) -> str:
    name = (name or "").strip()
    if not name:
        raise Refused("no_file")
    if "/" in name or "\\" in name or name in (".", "..") or "\x00" in name:
        raise Refused("path_in_name", name)
    if not name.isascii() or any(ord(c) < 32 or ord(c) == 127 for c in name):
        raise Refused("not_ascii", name)
    if len(name) > 200:
        raise Refused("name_too_long", name)
    return name


def check_pdf(path: Path, size: int, name: str) -> None:
    """A PDF that parses, with at least one page; checked in a bounded child process (pdfcheck)."""
    if size == 0:
        raise Refused("empty", name)
    with path.open("rb") as handle:
        if not handle.read(1024).lstrip().startswith(b"%PDF-"):
            raise Refused("not_pdf", name)
    verdict = pdfcheck.check(path, pdfcheck.Limits.from_settings(get_settings().section("uploads")))
    if verdict.outcome == "too_complex":
        current_app.logger.warning("PDF check: %s refused after %.2f s (%s s CPU, %s MB)", name, verdict.elapsed,
                                   verdict.cpu_seconds, verdict.peak_rss_mb)
        raise Refused("pdf_too_complex", name)
    if verdict.outcome != "pdf":
        raise Refused("not_pdf", name)


@dataclass
class Incoming:
    """One received file, still in its temporary file."""

    temp: storage.HashingTempFile
    name: str
    doc_type: str
    sha256: str = ""
    size: int = 0
    upload_id: str = ""  # set for a file staged by the JavaScript form


def accept(incoming: Incoming) -> Incoming:
    """Finish, check; on any refusal the temporary file is removed (nothing kept)."""
    try:
        incoming.sha256, incoming.size = incoming.temp.finish()
        check_file_name(incoming.name)
        if incoming.doc_type not in DOC_TYPES:
            raise Refused("doc_type", incoming.name)
        check_pdf(incoming.temp.path, incoming.size, incoming.name)
    except Exception:
        incoming.temp.discard()
        raise
    return incoming


UPLOAD_TTL = 3600  # a staged file waits this long for "Envoyer", then is deleted ([uploads] staged_seconds)


def upload_ttl() -> int:
    return int(get_settings().section("uploads").get("staged_seconds", UPLOAD_TTL))


def upload_quotas() -> quotas.Quotas:
    return quotas.Quotas.from_settings(get_settings().section("uploads"))


def _quota_refusal(reached: quotas.QuotaReached) -> Refused:
    return Refused(f"{reached.code}_quota", files=reached.limit_files, mb=reached.limit_mb)


def stage_upload(principal: Principal, application: Application, name: str, stream,
                 declared_length: int | None) -> tuple[str, Incoming]:
    """Receive one file of the JavaScript form and keep it, checked, until "Envoyer" (or its
    expiry): its place in the quotas is reserved before the bytes arrive."""
    check_file_name(name)
    upload_id = secrets.token_hex(16)
    temp = storage.HashingTempFile(storage_folder())
    quota_application = None if is_registry(principal) else application.id
    redis = get_redis()
    try:
        quotas.reserve_staged(redis, upload_quotas(), principal.sub, quota_application, upload_id,
                              declared_length or storage.MAX_BYTES, temp.path.name, upload_ttl())
    except quotas.QuotaReached as reached:
        temp.discard()
        raise _quota_refusal(reached) from None
    try:
        storage.copy_into(temp, stream)
        item = accept(Incoming(temp=temp, name=name, doc_type="other"))
    except Exception:
        temp.discard()
        quotas.release_staged(redis, principal.sub, quota_application, upload_id)
        raise
    quotas.settle_staged(redis, principal.sub, quota_application, upload_id, item.size, upload_ttl())
    redis.set(f"ecomms:upload:{upload_id}", json.dumps({
        "sub": principal.sub, "application_id": application.id, "name": name, "sha256": item.sha256,
        "size": item.size, "temp": temp.path.name}), ex=upload_ttl())
    return upload_id, item


def staged_upload(principal: Principal, application: Application, upload_id: str, doc_type: str) -> Incoming:
    """A file this person staged for this application, still there; else Refused("upload_expired")."""
    raw = get_redis().get(f"ecomms:upload:{upload_id}") if upload_id.isalnum() else None
    staged = json.loads(raw) if raw else None
    if staged is None or staged["sub"] != principal.sub or staged["application_id"] != application.id:
        raise Refused("upload_expired")
    path = storage_folder() / staged["temp"]
    if not path.exists():
        raise Refused("upload_expired")
    if doc_type not in DOC_TYPES:
        raise Refused("doc_type", staged["name"])
    return Incoming(temp=storage.Staged(path), name=staged["name"], doc_type=doc_type, sha256=staged["sha256"],
                    size=staged["size"], upload_id=upload_id)


def unstage(principal: Principal, application: Application, upload_id: str, remove_file: bool) -> bool:
    """Forget a staged file (sent: its file is now the document; removed: the file goes too)."""
    redis = get_redis()
    raw = redis.get(f"ecomms:upload:{upload_id}") if upload_id.isalnum() else None
    staged = json.loads(raw) if raw else None
    if staged is None or staged["sub"] != principal.sub or staged["application_id"] != application.id:
        return False
    redis.delete(f"ecomms:upload:{upload_id}")
    quotas.release_staged(redis, principal.sub, None if is_registry(principal) else application.id, upload_id)
    if remove_file:
        (storage_folder() / staged["temp"]).unlink(missing_ok=True)
    return True


def sweep_staged() -> list[str]:
    """Staged files whose hour is up are deleted (and their places given back)."""
    return quotas.sweep_expired(get_redis(), storage_folder())


def deposit(session: Session, principal: Principal, application: Application, files: list[Incoming],
            direction: str) -> list[Document]:
    """Publish checked files and record them; all or nothing. The applicant's side counts against
    the quotas of documents sent over the last 24 hours."""
    if direction == "to_court":
        try:
            quotas.check_sent(session, upload_quotas(), principal.sub, application.id, [f.size for f in files])
        except quotas.QuotaReached as reached:
            raise _quota_refusal(reached) from None
    folder = storage_folder()
    published: list[Path] = []
    documents = []
    try:
        for incoming in files:
            stored = storage.publish(incoming.temp, folder)
            published.append(stored.path)
            document = Document(application_id=application.id, direction=direction, doc_type=incoming.doc_type,
                                stored_name=f"{application.file_prefix}_{incoming.name}", size=incoming.size,
                                sha256=incoming.sha256, storage_key=stored.key, sender_sub=principal.sub)
            session.add(document)
            documents.append(document)
        session.flush()
    except Exception:
        for path in published:
            path.unlink(missing_ok=True)
        raise
    for incoming in files:
        if incoming.upload_id:
            unstage(principal, application, incoming.upload_id, remove_file=False)
    if direction == "from_court" and application.applicant_email:
        notify(session, application, "new_document")
    return documents


def receipt_for(document: Document, application: Application) -> str:
    claims = {"iss": get_settings().public_url, "type": "ecomms-deposit-receipt", "document": document.id,
              "application": application.number, "file_name": document.stored_name, "size": document.size,
              "sha256": document.sha256, "deposited_at": to_strasbourg(document.created_at).isoformat(),
              "deposited_at_text": format_strasbourg(document.created_at, with_seconds=True) + " (Europe/Strasbourg)",
              "sender": document.sender_sub}
    return receipts.sign(str(keys_folder()), claims)


def keys_folder() -> Path:
    return Path(get_settings().keys_path) / "ecomms"


# -- the registry's side ---------------------------------------------------------------------------

def create_application(session: Session, principal: Principal, number: str, title: str, applicant_email: str,
                       locale: str = "fr") -> Application:
    number, title, applicant_email = number.strip(), title.strip(), applicant_email.strip().lower()
    errors = {}
    if not NUMBER_RE.match(number):
        errors["number"] = "number"
    elif session.scalar(select(Application.id).where(Application.number == number)):
        errors["number"] = "number_taken"
    if not title:
        errors["title"] = "required"
    if not re.match(r"^[^@\s]+@[^@\s]+\.[^@\s]+$", applicant_email):
        errors["applicant_email"] = "email"
    if errors:
        raise FormErrors(errors)
    sub = invite(applicant_email, locale)
    application = Application(number=number, title=title[:300], applicant_email=applicant_email, applicant_sub=sub,
                              created_by=principal.sub)
    session.add(application)
    session.flush()
    notify(session, application, "new_application", locale)
    return application


class FormErrors(Exception):
    def __init__(self, errors: dict[str, str]):
        super().__init__(errors)
        self.errors = errors


def invite(email: str, locale: str) -> str:
    """Ask the IdP to invite this person (or find them): the answer is their subject for this portal."""
    rp = current_app.extensions["rp"]
    token = rp.client_credentials_token("provisioning")
    response = rp.provider.http.post(f"{get_settings().issuer}/api/provisioning/invitations",
                                     json={"email": email, "locale": locale},
                                     headers={"Authorization": f"Bearer {token}"}, timeout=10)
    if response.status_code not in (200, 201):
        raise requests.HTTPError(f"provisioning answered {response.status_code}")
    return response.json()["sub"]


def close_application(session: Session, application: Application) -> int:
    """Closing deletes the application's documents (seed 000 FAQ)."""
    count = delete_documents(session, list(application.documents))
    application.status, application.closed_at = "closed", utcnow()
    return count


def delete_documents(session: Session, documents: list[Document]) -> int:
    folder = storage_folder()
    for document in documents:
        session.delete(document)
    session.flush()
    for document in documents:  # files after the rows: a crash leaves orphans that cleanup removes
        storage.path_of(folder, document.storage_key).unlink(missing_ok=True)
    return len(documents)


def apply_retention(session: Session, now=None) -> int:
    """Documents are kept one year, then deleted (seed 000 FAQ)."""
    limit = (now or utcnow()) - RETENTION
    return delete_documents(session, list(session.scalars(select(Document).where(Document.created_at < limit))))


def expires_on(document: Document):
    return to_strasbourg(document.created_at + RETENTION)


def cleanup_storage(session: Session) -> list[str]:
    keys = set(session.scalars(select(Document.storage_key)))
    return storage.cleanup(storage_folder(), keys)


# -- notifications -----------------------------------------------------------------------------------

def notify(session: Session, application: Application, kind: str, locale: str = "fr") -> None:
    url = get_settings().public_url + "/"
    with force_locale(locale):
        if kind == "new_application":
            subject = _("Une requête a été ajoutée à votre compte eComms")
            body = _("Bonjour,\n\nLa Cour a ajouté la requête n° %(number)s à votre liste de requêtes dans eComms. "
                     "Toute correspondance se fera désormais par voie électronique.\n\nAccéder à eComms : %(url)s",
                     number=application.number, url=url)
        else:
            subject = _("Un nouveau document est disponible dans eComms")
            body = _("Bonjour,\n\nUn nouveau document de la Cour concernant la requête n° %(number)s est disponible "
                     "dans votre Boîte de réception eComms.\n\nAccéder à eComms : %(url)s",
                     number=application.number, url=url)
        body += "\n\n" + _("Si vous ne trouvez pas nos courriels, vérifiez votre dossier de courrier indésirable.")
    queue_email(session, OutboxMessage, to=application.applicant_email, subject=subject, body_text=body, locale=locale)
