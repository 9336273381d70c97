"""The support desk's requests (the operators' console): the contact requests every portal hands
to the IdP through the support API. A portal keeps its own record (its domain data); the IdP keeps
what the desk needs to read, answer and close it: who to answer, in which language, the text."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, DateTime, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from idp.storage.sql.models import Base, new_id
from shared.timeutil import utcnow


class SupportTicket(Base):
    __tablename__ = "support_tickets"
    __table_args__ = (UniqueConstraint("client_id", "reference", name="uq_support_client_reference"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    client_id: Mapped[str] = mapped_column(String(64), index=True)  # the portal that handed it over
    reference: Mapped[str] = mapped_column(String(32))  # the portal's own reference, told to the requester
    email: Mapped[str] = mapped_column(String(320))
    name: Mapped[str | None] = mapped_column(String(200))
    topic: Mapped[str] = mapped_column(String(40))
    message: Mapped[str] = mapped_column(Text)
    locale: Mapped[str] = mapped_column(String(8), default="fr")
    page: Mapped[str | None] = mapped_column(String(300))
    organisation: Mapped[str | None] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(12), default="open", index=True)  # open | answered | closed
    answers: Mapped[list] = mapped_column(JSON, default=list)  # [{"at", "operator", "text"}]
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
