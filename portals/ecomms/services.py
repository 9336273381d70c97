"""eComms flows (seed 000): the registry opens applications and sends documents; applicants read
their Inbox and deposit PDFs; every rule of the FAQ; notifications through the outbox."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import requests
from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from pypdf import PdfReader
from sqlalchemy import select
from sqlalchemy.orm import Session

from portals.ecomms import receipts, storage
from portals.ecomms.models import Application, Document, OutboxMessage
from shared.appkit import get_settings
from shared.outbox import queue_email
from shared.rp.session import Principal
from shared.timeutil import format_strasbourg, to_strasbourg, utcnow

NUMBER_RE = re.compile(r"^[1-9][0-9]{0,6}/[0-9]{2}$")
DOC_TYPES = ("observations", "letter", "form", "power_of_attorney", "annex", "other")
RETENTION = timedelta(days=365)
REGISTRY_ROLE = "registry"


class Refused(Exception):
    """A rule refused the request; ``code`` names it (the views word it in the user's language)."""

    def __init__(self, code: str, name: str = ""):
        super().__init__(code)
        self.code, self.name = code, name


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
    if size == 0:
        raise Refused("empty", name)
    with path.open("rb") as handle:
        if not handle.read(1024).lstrip().startswith(b"%PDF-"):
            raise Refused("not_pdf", name)
    try:
        with path.open("rb") as handle:  # a handle, not a path: pypdf would read a path whole into memory
            reader = PdfReader(handle, strict=False)
            if len(reader.pages) < 1:
                raise Refused("not_pdf", name)
    except Refused:
        raise
    except Exception as error:  # pypdf raises many kinds on a damaged or disguised file
        raise Refused("not_pdf", name) from error


@dataclass
class Incoming:
    """One received file, still in its temporary file."""

    temp: storage.HashingTempFile
    name: str
    doc_type: str
    sha256: str = ""
    size: int = 0


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


def deposit(session: Session, principal: Principal, application: Application, files: list[Incoming],
            direction: str) -> list[Document]:
    """Publish checked files and record them; all or nothing."""
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
