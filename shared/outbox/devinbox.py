"""The dev inbox (port 8025): a local SMTP sink and SMS/letter gateways that keep every message
the system "sent", and pages listing them with their links clickable. Development only. Its pages
are French by default with the English switch, like every page a person of the demo opens (its
catalogue: shared/translations/devinbox).

Messages are deduplicated on their Message-ID / idempotency key, so a delivery the outbox
retried after a timeout shows once, as the real recipient would see it once.
"""

from __future__ import annotations

import base64
import email
import email.policy
import io
import os
import re
from datetime import datetime
from typing import Any

from flask import Flask, abort, jsonify, render_template, request, send_file
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from markupsafe import Markup, escape
from sqlalchemy import DateTime, Integer, LargeBinary, String, Text, inspect, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from shared.config import ConfigError, load_settings
from shared.storage import Database
from shared.timeutil import utcnow
from shared.web import csrf, init_web


class Base(DeclarativeBase):
    pass


class ReceivedMessage(Base):
    __tablename__ = "received_messages"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    key: Mapped[str] = mapped_column(String(200), unique=True)  # Message-ID or idempotency key
    channel: Mapped[str] = mapped_column(String(8))
    recipient: Mapped[str] = mapped_column(String(320), index=True)
    sender: Mapped[str] = mapped_column(String(400), default="")  # an email's From, as the reader sees it
    subject: Mapped[str] = mapped_column(String(300), default="")
    body_text: Mapped[str] = mapped_column(Text, default="")
    attachment: Mapped[bytes | None] = mapped_column(LargeBinary)
    attachment_name: Mapped[str | None] = mapped_column(String(200))
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "channel": self.channel, "to": self.recipient, "from": self.sender, "subject": self.subject,
                "text": self.body_text, "links": LINK.findall(self.body_text or ""),
                "has_attachment": self.attachment is not None, "attachment_name": self.attachment_name,
                "received_at": self.received_at.isoformat()}


LINK = re.compile(r"https?://[^\s<>\"')]+")


def store(db: Database, **fields: Any) -> bool:
    """Keep a message once; False when its key was already received (a retried delivery)."""
    try:
        with db.session() as session:
            session.add(ReceivedMessage(**fields))
        return True
    except IntegrityError:
        return False


def _create_or_renew(db: Database) -> None:
    """A throwaway development store, so no migrations: a table of an older shape is dropped."""
    columns = {column["name"] for column in inspect(db.engine).get_columns("received_messages")} \
        if inspect(db.engine).has_table("received_messages") else None
    if columns is not None and columns != set(ReceivedMessage.__table__.columns.keys()):
        ReceivedMessage.__table__.drop(db.engine)
    Base.metadata.create_all(db.engine)


class SmtpHandler:
    def __init__(self, db: Database):
        self.db = db

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's hook name)
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        body = message.get_body(preferencelist=("plain", "html"))
        text = body.get_content() if body else ""
        key = message.get("Message-ID") or f"smtp-{utcnow().timestamp()}-{len(envelope.content)}"
        for recipient in envelope.rcpt_tos:
            store(self.db, key=f"{key}|{recipient}", channel="email", recipient=recipient.lower(),
                  sender=str(message.get("From", "")), subject=str(message.get("Subject", "")), body_text=text)
        return "250 OK"


def start_smtp_sink(db: Database, port: int) -> Any:
    from aiosmtpd.controller import Controller

    controller = Controller(SmtpHandler(db), hostname="127.0.0.1", port=port)
    controller.start()
    return controller


def linkify(text: str) -> Markup:
    escaped = str(escape(text))
    return Markup(LINK.sub(lambda m: f'<a href="{m.group(0)}">{m.group(0)}</a>', escaped))  # noqa: S704


def create_app(test_config: dict[str, Any] | None = None, smtp_port: int | None = None) -> Flask:
    settings = load_settings("devinbox", test_config)
    if settings.production:
        raise ConfigError("the dev inbox does not exist in production mode")
    app = Flask(__name__, instance_path=str(settings.instance_path), static_folder=None)
    init_web(app, settings, service_name=_l("Boîte de réception de développement"),
             template_roots=[os.path.join(os.path.dirname(__file__), "templates")])
    db_url = (test_config or {}).get("database_url") or f"sqlite:///{settings.instance_path / 'devinbox.db'}"
    db = Database(db_url)
    _create_or_renew(db)
    app.extensions["devinbox_db"] = db
    app.jinja_env.filters["linkify"] = linkify

    @app.context_processor
    def channels():
        return {"channel_labels": {"email": _("courriel"), "sms": _("SMS"), "letter": _("courrier postal")}}

    port = smtp_port if smtp_port is not None else int(os.environ.get("DEVINBOX_SMTP_PORT", 1025))
    if port:
        app.extensions["smtp_sink"] = start_smtp_sink(db, port)

    def messages(recipient: str | None = None, channel: str | None = None) -> list[ReceivedMessage]:
        with db.session() as session:
            query = select(ReceivedMessage).order_by(ReceivedMessage.id.desc()).limit(500)
            if recipient:
                query = query.where(ReceivedMessage.recipient == recipient.lower())
            if channel:
                query = query.where(ReceivedMessage.channel == channel)
            return list(session.scalars(query))

    @app.get("/")
    def index():
        return render_template("devinbox/index.html", messages=messages(request.args.get("to"), request.args.get("channel")))

    @app.get("/messages/<int:message_id>")
    def show(message_id: int):
        with db.session() as session:
            message = session.get(ReceivedMessage, message_id)
        if message is None:
            abort(404)
        return render_template("devinbox/message.html", message=message)

    @app.get("/messages/<int:message_id>/attachment")
    def attachment(message_id: int):
        with db.session() as session:
            message = session.get(ReceivedMessage, message_id)
        if message is None or message.attachment is None:
            abort(404)
        return send_file(io.BytesIO(message.attachment), mimetype="application/pdf", max_age=0,
                         download_name=message.attachment_name or "letter.pdf")  # quoted per RFC 6266

    @app.get("/api/messages")
    def api_messages():
        return jsonify([m.as_dict() for m in messages(request.args.get("to"), request.args.get("channel"))])

    def gateway(channel: str):
        payload = request.get_json(silent=True) or {}
        key = request.headers.get("Idempotency-Key") or payload.get("id")
        if not key or not payload.get("to"):
            return jsonify(error="id and to are required"), 400
        attachment = base64.b64decode(payload["attachment"]) if payload.get("attachment") else None
        created = store(db, key=f"{channel}:{key}", channel=channel, recipient=str(payload["to"]).lower(),
                        subject=payload.get("subject", ""), body_text=payload.get("text", ""),
                        attachment=attachment, attachment_name=payload.get("attachment_name"))
        return jsonify(status="stored" if created else "duplicate"), 201 if created else 200

    app.add_url_rule("/gateway/sms", "gateway_sms", csrf.exempt(lambda: gateway("sms")), methods=["POST"])
    app.add_url_rule("/gateway/letters", "gateway_letters", csrf.exempt(lambda: gateway("letter")), methods=["POST"])
    return app


