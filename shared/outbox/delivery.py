"""Queueing (inside the caller's transaction) and delivery (a worker thread per process)."""

from __future__ import annotations

import base64
import logging
import smtplib
import threading
from datetime import timedelta
from email.message import EmailMessage
from email.utils import formataddr, formatdate
from urllib.parse import urlsplit

import requests
from flask import Flask, current_app, has_app_context
from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from shared.config import Settings
from shared.jobs import run_in_background, runs_workers
from shared.metrics import OUTBOX_FAILURES
from shared.outbox.redaction import keep_delivered, redact, redact_settled_when_due
from shared.storage import Database
from shared.timeutil import utcnow

log = logging.getLogger(__name__)
delivery_log = logging.getLogger("civic.outbox")  # JSON lines beside civic.access (shared.request_log)
MAX_ATTEMPTS = 20
LEASE = timedelta(minutes=2)  # a claimed row whose worker died is retried after this ([outbox] lease_seconds)
_wake = threading.Event()


def queue_email(session: Session, model, to: str, subject: str, body_text: str, body_html: str | None = None,
                locale: str = "fr", sender_name: str | None = None):
    """``sender_name``: the From display name; by default the app's service name (the IdP gives the
    portal's a flow started from)."""
    if sender_name is None and has_app_context():
        sender_name = current_app.config.get("SERVICE_NAME")
    row = model(channel="email", recipient=to, subject=subject, body_text=body_text, body_html=body_html,
                locale=locale, sender_name=sender_name)
    session.add(row)
    _wake.set()
    return row


def queue_sms(session: Session, model, to: str, text: str, locale: str = "fr"):
    row = model(channel="sms", recipient=to, subject="", body_text=text, locale=locale)
    session.add(row)
    _wake.set()
    return row


def queue_letter(session: Session, model, to: str, subject: str, pdf: bytes, filename: str,
                 locale: str = "fr", body_text: str = ""):
    """``to`` is the postal address, one line per part of it."""
    row = model(channel="letter", recipient=to, subject=subject, body_text=body_text, attachment=pdf,
                attachment_name=filename, locale=locale)
    session.add(row)
    _wake.set()
    return row


def _backoff(attempts: int) -> timedelta:
    return timedelta(seconds=min(3600, 2 ** attempts))


def _send_email(row, settings: Settings) -> None:
    message = EmailMessage()
    message["From"] = formataddr((row.sender_name or "", settings.mail_from_address))
    message["To"] = row.recipient
    message["Subject"] = row.subject
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = f"<{row.id}@civic-idp.invalid>"  # the idempotency key
    message["Content-Language"] = row.locale
    message.set_content(row.body_text)
    if row.body_html:
        message.add_alternative(row.body_html, subtype="html")
    parts = urlsplit(settings.smtp_url)
    smtp_cls = smtplib.SMTP_SSL if parts.scheme == "smtps" else smtplib.SMTP
    with smtp_cls(parts.hostname or "localhost", parts.port or 25, timeout=10) as smtp:
        if parts.scheme == "smtp+starttls":
            smtp.starttls()
        if parts.username:
            smtp.login(parts.username, parts.password or "")
        smtp.send_message(message)


def _post_gateway(url: str, row) -> None:
    payload = {"id": row.id, "to": row.recipient, "subject": row.subject, "text": row.body_text, "locale": row.locale}
    if row.attachment is not None:
        payload["attachment"] = base64.b64encode(row.attachment).decode()
        payload["attachment_name"] = row.attachment_name
    response = requests.post(url, json=payload, headers={"Idempotency-Key": row.id}, timeout=10)
    response.raise_for_status()


def deliver(row, settings: Settings) -> None:
    if row.channel == "email":
        _send_email(row, settings)
    elif row.channel == "sms":
        _post_gateway(settings.sms_gateway_url, row)
    elif row.channel == "letter":
        _post_gateway(settings.letter_gateway_url, row)
    else:
        raise ValueError(f"unknown channel {row.channel}")


def _claim(db: Database, model, row_id: str, lease: timedelta = LEASE) -> bool:
    """Take a due row for this worker: only one worker wins (conditional UPDATE). The attempt is
    counted here, so a message whose delivery kills the worker every time still reaches the limit."""
    now = utcnow()
    with db.session() as session:
        claimed = session.execute(
            update(model).where(model.id == row_id, model.next_attempt_at <= now, model.attempts < MAX_ATTEMPTS,
                                or_(model.status == "pending", model.status == "sending"))
            .values(status="sending", next_attempt_at=now + lease, attempts=model.attempts + 1)
        ).rowcount
    return bool(claimed)


def _give_up_abandoned(db: Database, model, now) -> None:
    """Rows whose worker died during the last allowed attempt: failed, not retried for ever."""
    with db.session() as session:
        session.execute(update(model).where(model.status == "sending", model.next_attempt_at <= now,
                                            model.attempts >= MAX_ATTEMPTS)
                        .values(status="failed", last_error="the worker stopped during every attempt"))


def deliver_pending(db: Database, model, settings: Settings, limit: int = 50) -> int:
    """Deliver every due message once; failures are rescheduled with backoff. Returns how many were sent."""
    now = utcnow()
    with db.session() as session:
        due = list(session.scalars(select(model.id).where(
            or_(model.status == "pending", model.status == "sending"), model.next_attempt_at <= now)
            .order_by(model.created_at).limit(limit)))
    if due:
        _give_up_abandoned(db, model, now)
    sent = 0
    lease = timedelta(seconds=float(settings.section("outbox").get("lease_seconds", LEASE.total_seconds())))
    for row_id in due:
        if not _claim(db, model, row_id, lease):
            continue
        with db.session() as session:
            row = session.get(model, row_id)
            try:
                deliver(row, settings)
            except Exception as error:  # SMTP down, gateway down: keep it, retry later (attempt counted at claim)
                OUTBOX_FAILURES.labels(settings.app_name, row.channel).inc()
                row.last_error = f"{error.__class__.__name__}: {error}"[:500]
                row.status = "failed" if row.attempts >= MAX_ATTEMPTS else "pending"
                row.next_attempt_at = utcnow() + _backoff(row.attempts)
                log.warning("outbox: %s to %s not delivered yet (%s)", row.channel, row.recipient, row.last_error)
            else:
                row.status, row.sent_at = "sent", utcnow()
                log_delivered(settings, row)
                if not keep_delivered(settings):
                    redact(row)  # delivered: its link, code or letter no longer sits in the table
                sent += 1
    redact_settled_when_due(db, model, settings)
    return sent


def log_delivered(settings: Settings, row) -> None:
    """One JSON line per delivery, carrying the id of the request that queued the message, so an
    email can be followed from nginx's log to the send. Names the message, never its recipient or content."""
    delivery_log.info("delivered", extra={"fields": {
        "app": settings.app_name, "channel": row.channel, "message_id": row.id, "attempts": row.attempts,
        "request_id": row.request_id}})


def init_outbox(app: Flask, model, interval: float = 2.0) -> None:
    """Start this process's delivery worker (a daemon thread); safe with several instances."""
    app.extensions["outbox_model"] = model
    db: Database = app.extensions["db"]
    settings: Settings = app.config["SETTINGS"]
    if not runs_workers(settings):  # a command line's app, or tests that drive delivery themselves
        return

    def one_round(_live: Flask) -> None:
        try:
            deliver_pending(db, model, settings)
        except Exception as error:  # database unreachable: the rows wait, the next round retries
            log.warning("outbox worker (%s): %s", settings.app_name, error.__class__.__name__)

    run_in_background(app, f"outbox-{settings.app_name}", interval, one_round, wake=_wake)
