"""The justice personal space's records (seed 001): cases fed by the courts, their parties, the
life of each case, and which signed-in person (``sub``) attached which party's view."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, LargeBinary, String, Text, UniqueConstraint, event
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from portals.justice.search import folded, name_key
from portals.justice.timecolumn import UTCDateTime
from shared.outbox.models import define_outbox
from shared.timeutil import utcnow


class Base(DeclarativeBase):
    pass


OutboxMessage = define_outbox(Base)


def new_id() -> str:
    return str(uuid.uuid4())


class Case(Base):
    __tablename__ = "cases"
    __table_args__ = (Index("ix_cases_state_ended", "state", "ended_at"), Index("ix_cases_court", "court_name"))

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    reference: Mapped[str] = mapped_column(String(40), unique=True)  # the court's number (RG / parquet)
    nature: Mapped[str] = mapped_column(String(200))
    state: Mapped[str] = mapped_column(String(20), default="ongoing")  # ongoing | finished
    state_label: Mapped[str] = mapped_column(String(120), default="")
    court_name: Mapped[str] = mapped_column(String(200))
    court_address: Mapped[str] = mapped_column(String(300), default="")
    court_phone: Mapped[str] = mapped_column(String(40), default="")
    court_email: Mapped[str] = mapped_column(String(200), default="")
    court_search: Mapped[str] = mapped_column(String(220), default="")  # search.folded(court_name)
    updating: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    parties: Mapped[list[Party]] = relationship(back_populates="case", cascade="all, delete-orphan",
                                                order_by="Party.role")
    events: Mapped[list[Event]] = relationship(back_populates="case", cascade="all, delete-orphan",
                                               order_by="Event.at.desc()")


class Party(Base):
    """A party of a case; the identification number sent after consent is stored hashed."""

    __tablename__ = "parties"
    __table_args__ = (Index("ix_parties_case", "case_id"), Index("ix_parties_names", "last_name", "first_name"))

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"))
    role: Mapped[str] = mapped_column(String(60))
    last_name: Mapped[str] = mapped_column(String(200))
    first_name: Mapped[str] = mapped_column(String(200), default="")  # or the company name
    email: Mapped[str | None] = mapped_column(String(320))
    mobile: Mapped[str | None] = mapped_column(String(20))  # E.164
    consent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    identification_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    access_cut: Mapped[bool] = mapped_column(Boolean, default=False)
    search_name: Mapped[str] = mapped_column(String(420), default="")  # search.folded names, both orders
    case: Mapped[Case] = relationship(back_populates="parties")


class Event(Base):
    """An entry of the "Vie du dossier": an event, a hearing, a decision date, or a document."""

    __tablename__ = "events"
    __table_args__ = (Index("ix_events_case_at", "case_id", "at"), Index("ix_events_kind_at", "kind", "at"))

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(20))  # event | hearing | decision | renvoi | document
    label: Mapped[str] = mapped_column(String(300))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    location: Mapped[str] = mapped_column(String(300), default="")
    document_kind: Mapped[str | None] = mapped_column(String(20))  # receipt | notice | summons
    document_pdf: Mapped[bytes | None] = mapped_column(LargeBinary)
    reminder_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(12), default="scheduled")  # scheduled | cancelled
    sequence: Mapped[int] = mapped_column(Integer, default=0)  # raised at each correction (iCalendar SEQUENCE)
    new_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # a renvoi's new hearing date
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    case: Mapped[Case] = relationship(back_populates="events")


class Attachment(Base):
    """A person's view of a case, through one party (one number = one attachment). Detaching hides
    the view and keeps the row: the person's alert choices for that party outlive the view."""

    __tablename__ = "attachments"
    __table_args__ = (UniqueConstraint("sub", "party_id"), Index("ix_attachments_sub", "sub"))

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    sub: Mapped[str] = mapped_column(String(128))
    party_id: Mapped[str] = mapped_column(ForeignKey("parties.id", ondelete="CASCADE"))
    alerts: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    detached_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    party: Mapped[Party] = relationship()


class PersonSettings(Base):
    __tablename__ = "person_settings"

    sub: Mapped[str] = mapped_column(String(128), primary_key=True)
    alerts: Mapped[bool] = mapped_column(Boolean, default=True)
    locale: Mapped[str] = mapped_column(String(8), default="fr")  # the language of alerts and reminders
    digest: Mapped[str] = mapped_column(String(12), default="immediate")  # immediate | daily
    calendar_token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)  # the subscription URL's secret


class PendingAlert(Base):
    """An update waiting for the daily digest of an address (one row per address and case)."""

    __tablename__ = "pending_alerts"
    __table_args__ = (UniqueConstraint("email", "case_id"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    email: Mapped[str] = mapped_column(String(320))
    locale: Mapped[str] = mapped_column(String(8), default="fr")
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    case: Mapped[Case] = relationship()


class HelpAnswer(Base):
    """One answer to "Avez-vous trouvé la réponse à votre question ?" (no person kept)."""

    __tablename__ = "help_answers"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    section: Mapped[str] = mapped_column(String(40))
    found: Mapped[bool] = mapped_column(Boolean)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class SupportRequest(Base):
    __tablename__ = "support_requests"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    reference: Mapped[str] = mapped_column(String(20), unique=True)
    sub: Mapped[str | None] = mapped_column(String(128))
    email: Mapped[str] = mapped_column(String(320))
    topic: Mapped[str] = mapped_column(String(40))
    message: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    locale: Mapped[str | None] = mapped_column(String(8))  # the requester's language (the answer's)
    handed_over_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # to the IdP's support desk


@event.listens_for(Case, "before_insert")
@event.listens_for(Case, "before_update")
def _fold_court(_mapper, _connection, case: Case) -> None:
    case.court_search = folded(case.court_name)


@event.listens_for(Party, "before_insert")
@event.listens_for(Party, "before_update")
def _fold_names(_mapper, _connection, party: Party) -> None:
    party.search_name = name_key(party.first_name, party.last_name)
