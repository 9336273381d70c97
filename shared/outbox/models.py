"""The outbox table, declared on each app's own ``Base`` (``define_outbox(Base)``)."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import DateTime, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from shared.request_log import request_id
from shared.timeutil import utcnow


def define_outbox(base: type) -> type:
    """Return the ``OutboxMessage`` model mapped on ``base`` (table ``outbox_messages``)."""

    class OutboxMessage(base):  # type: ignore[misc, valid-type]
        __tablename__ = "outbox_messages"

        id: Mapped[str] = mapped_column(String(36), primary_key=True, default=lambda: str(uuid.uuid4()))
        channel: Mapped[str] = mapped_column(String(8))  # email | sms | letter
        recipient: Mapped[str] = mapped_column(String(320))  # email address, E.164 phone, or postal address
        locale: Mapped[str] = mapped_column(String(8), default="fr")
        sender_name: Mapped[str | None] = mapped_column(String(120))  # None: the app's own (MAIL_SENDER_NAME)
        subject: Mapped[str] = mapped_column(String(300), default="")
        body_text: Mapped[str] = mapped_column(Text, default="")
        body_html: Mapped[str | None] = mapped_column(Text)
        attachment: Mapped[bytes | None] = mapped_column(LargeBinary)  # the letter's PDF
        attachment_name: Mapped[str | None] = mapped_column(String(200))
        status: Mapped[str] = mapped_column(String(12), default="pending", index=True)  # pending|sent|failed
        attempts: Mapped[int] = mapped_column(Integer, default=0)
        next_attempt_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
        last_error: Mapped[str | None] = mapped_column(Text)
        created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
        # the request that queued it (its X-Request-ID), logged with the delivery; set by whatever queues
        # a row, in a request or in a job carrying one (shared.request_log)
        request_id: Mapped[str | None] = mapped_column(String(64), default=request_id)
        sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    return OutboxMessage
