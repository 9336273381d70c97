"""The portal's own tables: support requests and the démarches made through each e-service.

No account data: people are the IdP's ``sub`` (pairwise for this portal) and organisations its ids.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import JSON, DateTime, Index, Integer, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from shared.outbox.models import define_outbox
from shared.timeutil import utcnow


class Base(DeclarativeBase):
    pass


OutboxMessage = define_outbox(Base)  # the support request's acknowledgment email


class SupportRequest(Base):
    """A request from the form at the bottom of every page (seed 002: "demande d'assistance")."""

    __tablename__ = "support_requests"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    reference: Mapped[str] = mapped_column(String(16), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    sub: Mapped[str | None] = mapped_column(String(255))
    organisation_id: Mapped[str | None] = mapped_column(String(36))
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(320))
    topic: Mapped[str] = mapped_column(String(40))
    message: Mapped[str] = mapped_column(Text)
    page: Mapped[str | None] = mapped_column(String(300))
    status: Mapped[str] = mapped_column(String(16), default="open")
    locale: Mapped[str | None] = mapped_column(String(8))  # the requester's language (the answer's)
    handed_over_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))  # to the IdP's support desk


class Demarche(Base):
    """One piece of work done in an e-service on behalf of an organisation: its reference (shown in
    the URL), the fields of that e-service's form (``data``) and who made it (the IdP's ``sub``)."""

    __tablename__ = "demarches"
    __table_args__ = (Index("ix_demarches_org_service", "organisation_id", "eservice_id"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=lambda: str(uuid.uuid4()))
    organisation_id: Mapped[str] = mapped_column(String(36))
    eservice_id: Mapped[str] = mapped_column(String(64))
    sub: Mapped[str] = mapped_column(String(255))
    author: Mapped[str] = mapped_column(String(200))
    title: Mapped[str] = mapped_column(String(200))
    details: Mapped[str] = mapped_column(Text, default="")
    reference: Mapped[str | None] = mapped_column(String(20), unique=True)
    data: Mapped[dict] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
