"""eComms flows (seed 000): the registry opens applications and sends documents; applicants read
their Inbox and deposit PDFs; every rule of the FAQ; notifications through the outbox."""

from __future__ import annotations

import json
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import requests
from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import Session

from portals.ecomms import notices, pades, parties, pdfcheck, quotas, receipt_pdf, receipts, storage
from portals.ecomms.models import Application, Document, new_id
from shared.appkit import get_redis, get_settings
from shared.rp.session import Principal
from shared.timeutil import as_utc, format_strasbourg, to_strasbourg, utcnow

NUMBER_RE = re.compile(r"^[1-9][0-9]{0,6}/[0-9]{2}$")
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
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
    """The registry sees every application; anyone else (an applicant, a representative) those their
    account is attached to, open or closed within their grace period."""
    if not is_registry(principal):
        query = parties.applications_query(principal.sub).order_by(Application.created_at.desc())
        return [a for a in session.scalars(query) if readable(a)]
    return list(session.scalars(select(Application).order_by(Application.created_at.desc())))


def readable(application: Application, now=None) -> bool:
    """Open, or closed with a grace period not yet over (the applicant may still download)."""
    if application.status == "open":
        return True
    return application.purge_at is not None and as_utc(application.purge_at) > (now or utcnow())


def application_for(session: Session, principal: Principal, application_id: str) -> Application:
    """The application if this person may see it: the registry, or an account attached to it (its
    applicant, a representative). Refused("closed") for their own closed application (a deposit in
    progress is told why); otherwise Refused("not_found") (no hint it exists)."""
    application = session.get(Application, application_id) if len(application_id) <= 36 else None
    if application is None:
        raise Refused("not_found")
    if is_registry(principal):
        return application
    if parties.party_for(application, principal) is None:
        raise Refused("not_found")
    if not readable(application):
        raise Refused("closed")
    return application


def writable(application: Application) -> None:
    if application.status != "open":
        raise Refused("closed")


def documents_of(application: Application, principal: Principal, direction: str) -> list[Document]:
    """One folder (Inbox: from the Court; Sent items: to the Court). A person re-attached after an
    address change sees only what arrived since (nothing is carried over)."""
    party = None if is_registry(principal) else parties.party_for(application, principal)
    if party is None and not is_registry(principal):
        return []
    since = None if party is None or party.visible_from is None else as_utc(party.visible_from)
    return [d for d in application.documents
            if d.direction == direction and (since is None or as_utc(d.created_at) >= since)]


def document_for(session: Session, principal: Principal, document_id: str) -> Document:
    document = session.get(Document, document_id) if len(document_id) <= 36 else None
    if document is None:
        raise Refused("not_found")
    application = application_for(session, principal, document.application_id)
    if document not in documents_of(application, principal, document.direction):
        raise Refused("not_found")
    return document


def is_new(document: Document, principal: Principal) -> bool:
    """Not yet opened by the side it was sent to (the registry for filings, the applicant for the Court's)."""
    if is_registry(principal):
        return document.direction == "to_court" and document.read_by_registry_at is None
    return document.direction == "from_court" and document.read_by_applicant_at is None


def mark_read(document: Document, principal: Principal) -> None:
    if is_registry(principal):
        document.read_by_registry_at = document.read_by_registry_at or utcnow()
    else:
        document.read_by_applicant_at = document.read_by_applicant_at or utcnow()


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
    if not name.lower().endswith(".pdf") or len(name) < 5:
        raise Refused("not_pdf_name", name)
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
    if verdict.outcome == "encrypted":
        raise Refused("encrypted", name)
    if verdict.outcome != "pdf":
        raise Refused("not_pdf", name)


@dataclass
class Incoming:
    """One received file, still in its temporary file."""

    temp: storage.HashingTempFile | storage.Staged
    name: str
    doc_type: str = ""
    sha256: str = ""
    size: int = 0
    upload_id: str = ""  # set once the file is staged (kept, checked, until "Envoyer" or its expiry)


def accept(incoming: Incoming) -> Incoming:
    """Finish, check; on any refusal the temporary file is removed (nothing kept)."""
    try:
        incoming.sha256, incoming.size = incoming.temp.finish()
        check_file_name(incoming.name)
        check_pdf(incoming.temp.path, incoming.size, incoming.name)
    except Exception:
        incoming.temp.discard()
        raise
    return incoming


def check_duplicates(application: Application, files: list[Incoming], direction: str) -> None:
    """The same file (by SHA-256) is not deposited twice in one folder of an application, nor twice
    in one sending: the person is told which document it already is."""
    known = {d.sha256: d.stored_name for d in application.documents if d.direction == direction}
    for incoming in files:
        if incoming.sha256 in known:
            raise Refused("duplicate", incoming.name, existing=known[incoming.sha256])
        known[incoming.sha256] = incoming.name


def check_types(files: list[Incoming]) -> None:
    """The seed: "le type du document est défini au moment du transfert" — chosen, never defaulted."""
    for incoming in files:
        if incoming.doc_type not in DOC_TYPES:
            raise Refused("doc_type", incoming.name)


UPLOAD_TTL = 3600  # a staged file waits this long for "Envoyer", then is deleted ([uploads] staged_seconds)


def upload_ttl() -> int:
    return int(get_settings().section("uploads").get("staged_seconds", UPLOAD_TTL))


def upload_quotas() -> quotas.Quotas:
    return quotas.Quotas.from_settings(get_settings().section("uploads"))


def _quota_refusal(reached: quotas.QuotaReached) -> Refused:
    return Refused(f"{reached.code}_quota", files=reached.limit_files, mb=reached.limit_mb)


def quota_application(principal: Principal, application: Application) -> str | None:
    """The application whose quota a file counts against (None for the registry's own files)."""
    return None if is_registry(principal) else application.id


def reserve(principal: Principal, application: Application, upload_id: str, size: int, temp_name: str) -> None:
    """Take the file's place (``size`` bytes at most) in the staged quotas, or Refused(staged_quota)."""
    writable(application)
    try:
        quotas.reserve_staged(get_redis(), upload_quotas(), principal.sub, quota_application(principal, application),
                              upload_id, size, temp_name, upload_ttl())
    except quotas.QuotaReached as reached:
        raise _quota_refusal(reached) from None


def release(principal: Principal, application: Application, upload_id: str) -> None:
    quotas.release_staged(get_redis(), principal.sub, quota_application(principal, application), upload_id)


def keep_staged(principal: Principal, application: Application, upload_id: str, item: Incoming) -> Incoming:
    """A received, checked file waits for "Envoyer": its place shrinks to its real size."""
    redis = get_redis()
    item.temp.keep()
    quotas.settle_staged(redis, principal.sub, quota_application(principal, application), upload_id, item.size,
                         upload_ttl())
    redis.set(f"ecomms:upload:{upload_id}", json.dumps({
        "sub": principal.sub, "application_id": application.id, "name": item.name, "sha256": item.sha256,
        "size": item.size, "temp": item.temp.path.name, "started_at": item.temp.started_at.isoformat()}),
        ex=upload_ttl())
    item.upload_id = upload_id
    return item


def _staging(principal: Principal, application: Application, temp: storage.HashingTempFile, name: str,
             size: int, receive) -> Incoming:
    """Reserve the file's place in the quotas, receive and check it, keep it staged (see stage_*)."""
    upload_id = secrets.token_hex(16)
    try:
        reserve(principal, application, upload_id, size, temp.path.name)
    except Refused:
        temp.discard()
        raise
    try:
        receive()
        item = accept(Incoming(temp=temp, name=name))
    except Exception:
        temp.discard()
        release(principal, application, upload_id)
        raise
    return keep_staged(principal, application, upload_id, item)


def stage_upload(principal: Principal, application: Application, name: str, stream,
                 declared_length: int | None) -> tuple[str, Incoming]:
    """Receive one file of the JavaScript form and keep it, checked, until "Envoyer" (or its
    expiry): its place in the quotas is reserved before the bytes arrive."""
    check_file_name(name)
    temp = storage.HashingTempFile(storage_folder())
    item = _staging(principal, application, temp, name, declared_length or storage.MAX_BYTES,
                    lambda: storage.copy_into(temp, stream))
    return item.upload_id, item


def stage_received(principal: Principal, application: Application, temp: storage.HashingTempFile,
                   name: str) -> Incoming:
    """A file of the plain (no-JavaScript) form, already streamed into its temporary file: staged like
    an XHR upload, so a refusal of the form (type, confirmation) keeps it for the next try."""
    return _staging(principal, application, temp, name, temp.size, lambda: None)


def staged_upload(principal: Principal, application: Application, upload_id: str, doc_type: str = "") -> Incoming:
    """A file this person staged for this application, still there; else Refused("upload_expired")."""
    staged = _staged_record(principal, application, upload_id)
    if staged is None or not (storage_folder() / staged["temp"]).exists():
        raise Refused("upload_expired")
    started = datetime.fromisoformat(staged["started_at"]) if staged.get("started_at") else None
    return Incoming(temp=storage.Staged(storage_folder() / staged["temp"], started), name=staged["name"],
                    doc_type=doc_type,
                    sha256=staged["sha256"], size=staged["size"], upload_id=upload_id)


def _staged_record(principal: Principal, application: Application, upload_id: str) -> dict | None:
    raw = get_redis().get(f"ecomms:upload:{upload_id}") if upload_id.isalnum() and len(upload_id) <= 64 else None
    staged = json.loads(raw) if raw else None
    if staged is None or staged["sub"] != principal.sub or staged["application_id"] != application.id:
        return None
    return staged


def unstage(principal: Principal, application: Application, upload_id: str, remove_file: bool) -> bool:
    """Forget a staged file (sent: its file is now the document; removed: the file goes too). True
    for the one caller that took it (two requests sending the same file: only one gets it)."""
    staged = _staged_record(principal, application, upload_id)
    redis = get_redis()
    if staged is None or not redis.delete(f"ecomms:upload:{upload_id}"):
        return False
    release(principal, application, upload_id)
    if remove_file:
        (storage_folder() / staged["temp"]).unlink(missing_ok=True)
    return True


def sweep_staged() -> list[str]:
    """Staged files whose hour is up are deleted (and their places given back)."""
    return quotas.sweep_expired(get_redis(), storage_folder())


def deposit(session: Session, principal: Principal, application: Application, files: list[Incoming],
            direction: str) -> list[Document]:
    """Publish checked files and record them; all or nothing. The applicant's side counts against
    the quotas of documents sent over the last 24 hours. A file another request already sent (a
    double click, a re-posted form) is refused with ``already_sent``, never published twice."""
    writable(application)
    check_types(files)
    check_duplicates(application, files, direction)
    if direction == "to_court":
        try:
            quotas.check_sent(session, upload_quotas(), principal.sub, application.id, [f.size for f in files])
        except quotas.QuotaReached as reached:
            raise _quota_refusal(reached) from None
    for incoming in files:  # claim every staged file first: a concurrent request claims none of them twice
        if incoming.upload_id and not unstage(principal, application, incoming.upload_id, remove_file=False):
            raise Refused("already_sent")
    folder = storage_folder()
    published: list[Path] = []
    documents = []
    deposit_id = new_id()  # one sending, one signed PDF receipt listing its files
    try:
        for incoming in files:
            stored = storage.publish(incoming.temp, folder)
            published.append(stored.path)
            document = Document(application_id=application.id, direction=direction, doc_type=incoming.doc_type,
                                stored_name=f"{application.file_prefix}_{incoming.name}", size=incoming.size,
                                sha256=incoming.sha256, storage_key=stored.key, sender_sub=principal.sub,
                                deposit_id=deposit_id, upload_started_at=incoming.temp.started_at)
            session.add(document)
            documents.append(document)
        session.flush()
    except Exception as error:  # all or nothing: the claimed files go too (no one can send them now)
        for path in published + [incoming.temp.path for incoming in files]:
            path.unlink(missing_ok=True)
        if isinstance(error, FileNotFoundError):
            raise Refused("upload_expired") from None
        raise
    if direction == "from_court":
        notices.new_documents(session, application, documents)
    else:
        notices.filing(session, application, documents)
    return documents


def receipt_for(document: Document, application: Application) -> str:
    claims = {"iss": get_settings().public_url, "type": "ecomms-deposit-receipt", "document": document.id,
              "application": application.number, "file_name": document.stored_name, "size": document.size,
              "sha256": document.sha256, "deposited_at": to_strasbourg(document.created_at).isoformat(),
              "deposited_at_text": format_strasbourg(document.created_at, with_seconds=True) + " (Europe/Strasbourg)",
              "sender": document.sender_sub}
    return receipts.sign(str(keys_folder()), claims)


def deposit_of(document: Document) -> list[Document]:
    """Every document sent with this one (the deposit its PDF receipt lists); alone when it predates deposits."""
    if document.deposit_id is None:
        return [document]
    return [d for d in document.application.documents if d.deposit_id == document.deposit_id]


def pdf_receipt_for(document: Document, labels: dict[str, str]) -> tuple[str, bytes]:
    """The deposit's receipt as a PAdES-signed PDF, and its file name."""
    documents = deposit_of(document)
    page = receipt_pdf.render(document.application, documents, labels, get_settings().public_url)
    signed = pades.sign(page, pades.material(str(keys_folder())),
                        reason=f"Accusé de dépôt eComms — requête n° {document.application.number}")
    return receipt_pdf.file_name(document.application, documents), signed


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
    if not EMAIL_RE.match(applicant_email):
        errors["applicant_email"] = "email"
    if errors:
        raise FormErrors(errors)
    sub, status = invite(applicant_email, locale)
    application = Application(number=number, title=title[:300], applicant_email=applicant_email, applicant_sub=sub,
                              applicant_locale=locale, created_by=principal.sub)
    application.applicant.invitation = status
    session.add(application)
    session.flush()
    notices.new_application(session, application)
    return application


class FormErrors(Exception):
    def __init__(self, errors: dict[str, str]):
        super().__init__(errors)
        self.errors = errors


def invite(email: str, locale: str) -> tuple[str, str]:
    """Ask the IdP to invite this person (or find them): the answer is their subject for this portal
    and their account's status ("pending": the invitation waits for activation; "active")."""
    rp = current_app.extensions["rp"]
    token = rp.client_credentials_token("provisioning")
    response = rp.provider.http.post(f"{get_settings().issuer}/api/provisioning/invitations",
                                     json={"email": email, "locale": locale},
                                     headers={"Authorization": f"Bearer {token}"}, timeout=10)
    if response.status_code not in (200, 201):
        raise requests.HTTPError(f"provisioning answered {response.status_code}")
    answer = response.json()
    return answer["sub"], "active" if answer.get("status") == "active" else "pending"


def grace_days() -> int:
    """Days the applicant may still download after closing ([closing] grace_days; 0, the seed's
    rule: the documents go at once)."""
    return max(0, int(get_settings().section("closing").get("grace_days", 0)))


def closing_summary(application: Application) -> dict[str, list[Document]]:
    """What closing deletes, folder by folder (the confirmation page names it)."""
    return {"inbox": [d for d in application.documents if d.direction == "from_court"],
            "sent": [d for d in application.documents if d.direction == "to_court"]}


def close_application(session: Session, application: Application, confirmation: str) -> int:
    """Closing deletes the application's documents (seed 000 FAQ), once the registry typed the
    application's number; with a grace period they go when it ends. The applicant is told."""
    if confirmation.strip() != application.number:
        raise Refused("close_confirmation")
    writable(application)
    application.status, application.closed_at = "closed", utcnow()
    days = grace_days()
    count = len(application.documents)
    if days:
        application.purge_at = application.closed_at + timedelta(days=days)
        notices.closed(session, application, format_strasbourg(application.purge_at))
    else:
        delete_documents(session, list(application.documents))
        notices.closed(session, application, None)
    return count


def purge_closed(session: Session, now=None) -> int:
    """Closed applications whose grace period is over lose their documents."""
    now = now or utcnow()
    due = session.scalars(select(Application).where(Application.status == "closed",
                                                    Application.purge_at.is_not(None), Application.purge_at <= now))
    count = 0
    for application in due:
        count += delete_documents(session, list(application.documents))
        application.purge_at = None
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
