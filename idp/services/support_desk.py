"""The support desk: every portal's contact requests, handed over through the support API, read,
answered and closed by the operators (the console).

Why here: each portal keeps its own record (its reference, the person's subject there, its own
organisation data) and never shares its database; the IdP already holds the one outbox that
reaches people in their language and the operators' console with its second factor and audit
trail. So a portal sends the IdP only what answering needs (reference, address, language, topic,
text) with its own client-credentials token for the ``support`` API, and the desk is one queue
for all portals instead of one mailbox and one command line per portal.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import func, select

from idp.services import audit, branding, lifecycle, text_fields
from idp.storage.sql.outbox import OutboxMessage
from idp.storage.sql.support import SupportTicket
from shared.appkit import get_db
from shared.outbox import queue_email
from shared.timeutil import utcnow

MESSAGE_MAX = 5000
ANSWER_MAX = 5000
LOCALES = ("fr", "en")
STATUSES = ("open", "answered", "closed")


class BadRequest(ValueError):
    """``field``: the first field that is not what the API or the form expects."""

    def __init__(self, field: str, code: str = "invalid"):
        super().__init__(f"{field}: {code}")
        self.field, self.code = field, code


def _one_line(body: dict, name: str, limit: int, required: bool = True) -> str | None:
    value = body.get(name)
    if value is None or value == "":
        if required:
            raise BadRequest(name, "required")
        return None
    if not isinstance(value, str):
        raise BadRequest(name)
    value = text_fields.clean(value)
    if text_fields.has_forbidden(value) or len(value) > limit:
        raise BadRequest(name)
    return value


def receive(client_id: str, body: object) -> tuple[SupportTicket, bool]:
    """Store a portal's request (once: the same reference from the same portal is the same request,
    so a portal may hand it over again after a lost answer); True when it is new."""
    if not isinstance(body, dict):
        raise BadRequest("body")
    reference = _one_line(body, "reference", 32)
    email = _one_line(body, "email", 320)
    if not lifecycle.valid_email(email):
        raise BadRequest("email")
    message = body.get("message")
    if not isinstance(message, str) or not message.strip() or len(message) > MESSAGE_MAX:
        raise BadRequest("message")
    locale = body.get("locale", "fr")
    if locale not in LOCALES:
        raise BadRequest("locale")
    values = dict(reference=reference, email=email.lower(), name=_one_line(body, "name", 200, required=False),
                  topic=_one_line(body, "topic", 40), message=message.strip(), locale=locale,
                  page=_one_line(body, "page", 300, required=False),
                  organisation=_one_line(body, "organisation", 200, required=False))
    with get_db().session() as session:
        existing = session.scalar(select(SupportTicket).where(SupportTicket.client_id == client_id,
                                                              SupportTicket.reference == reference))
        if existing is not None:
            return existing, False
        ticket = SupportTicket(client_id=client_id, **values)
        session.add(ticket)
        session.flush()
        audit.record("support_request_received", None, client_id, within=session, ticket=ticket.id,
                     reference=reference)
    return ticket, True


STATUS_BATCH = 50


def statuses(client_id: str, references: list[str]) -> dict[str, str]:
    """The desk's status of this portal's own requests (a portal that keeps a status, e-services,
    closes its record when the desk closed the request). Another portal's references, and unknown
    ones, are simply absent: the answer says nothing about what this portal did not send."""
    if not references or len(references) > STATUS_BATCH or any(not r or len(r) > 32 for r in references):
        raise BadRequest("reference")
    with get_db().session() as session:
        found = session.execute(select(SupportTicket.reference, SupportTicket.status).where(
            SupportTicket.client_id == client_id, SupportTicket.reference.in_(references))).all()
    return dict(found)


@dataclass
class Queue:
    tickets: list[SupportTicket]
    counts: dict[str, int]


def queue(status: str = "open", client_id: str = "") -> Queue:
    with get_db().session() as session:
        query = select(SupportTicket).order_by(SupportTicket.created_at)
        if status in STATUSES:
            query = query.where(SupportTicket.status == status)
        if client_id:
            query = query.where(SupportTicket.client_id == client_id)
        counts = dict(session.execute(select(SupportTicket.status, func.count()).group_by(SupportTicket.status)).all())
        return Queue(list(session.scalars(query.limit(500))), counts)


def get(ticket_id: str) -> SupportTicket | None:
    with get_db().session() as session:
        return session.get(SupportTicket, ticket_id)


def answer(operator_id: str, ticket_id: str, text: str) -> SupportTicket:
    """Email the answer to the requester (the IdP's outbox, in their language, in the name of the
    portal they wrote to) and keep it with the request."""
    text = (text or "").strip()
    if not text:
        raise BadRequest("answer", "required")
    if len(text) > ANSWER_MAX:
        raise BadRequest("answer", "too_long")
    with get_db().session() as session:
        ticket = session.get(SupportTicket, ticket_id)
        if ticket is None:
            raise LookupError(ticket_id)
        if ticket.status == "closed":
            raise BadRequest("answer", "closed")
        sender = branding.mail_identity(ticket.client_id)
        with force_locale(ticket.locale):
            subject = _("Réponse à votre demande d'assistance %(ref)s", ref=ticket.reference)
            body = text + "\n\n-- \n" + _("%(service)s — l'équipe d'assistance", service=sender.name)
        queue_email(session, OutboxMessage, to=ticket.email, subject=subject, body_text=body, locale=ticket.locale,
                    sender_name=sender.name)
        ticket.answers = [*(ticket.answers or []), {"at": utcnow().isoformat(), "operator": operator_id, "text": text}]
        ticket.status = "answered"
        audit.record("operations_support_answered", operator_id, ticket.client_id, within=session,
                     operator=operator_id, ticket=ticket.id, reference=ticket.reference)
        return ticket


def close(operator_id: str, ticket_id: str) -> SupportTicket:
    with get_db().session() as session:
        ticket = session.get(SupportTicket, ticket_id)
        if ticket is None:
            raise LookupError(ticket_id)
        ticket.status, ticket.closed_at = "closed", ticket.closed_at or utcnow()
        audit.record("operations_support_closed", operator_id, ticket.client_id, within=session,
                     operator=operator_id, ticket=ticket.id, reference=ticket.reference)
        return ticket
