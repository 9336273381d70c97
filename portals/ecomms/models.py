"""eComms records: applications (requêtes) and their documents, keyed on the IdP's ``sub`` only.

The portal keeps no password and no copy of the account: an applicant is the pairwise subject
the IdP gives this portal (known in advance through the provisioning API's answer) and the
address the Court used to invite them.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import BigInteger, DateTime, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from shared.outbox.models import define_outbox
from shared.timeutil import utcnow


class Base(DeclarativeBase):
    pass


OutboxMessage = define_outbox(Base)


def new_id() -> str:
    return str(uuid.uuid4())


ROLES = ("applicant", "representative")  # the applicant (requérant) and their representatives (lawyers)


class Application(Base):
    """A requête, e.g. ``123/16``, opened to electronic communication by the Court's registry; the
    people it is attached to are its ``parties`` (see ``Party``)."""

    __tablename__ = "applications"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    number: Mapped[str] = mapped_column(String(20), unique=True)
    title: Mapped[str] = mapped_column(String(300))
    status: Mapped[str] = mapped_column(String(12), default="open")  # open | closed
    created_by: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # closed with a grace period: the applicant may still download until then ([closing] grace_days)
    purge_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    documents: Mapped[list[Document]] = relationship(back_populates="application", cascade="all, delete-orphan",
                                                     order_by="Document.created_at.desc()")
    parties: Mapped[list[Party]] = relationship(back_populates="application", cascade="all, delete-orphan",
                                                order_by="Party.created_at", lazy="selectin")

    def __init__(self, applicant_email: str | None = None, applicant_sub: str | None = None,
                 applicant_locale: str = "fr", attached_at: datetime | None = None,
                 detached_at: datetime | None = None, **columns):
        """An application and, when an address is given, its applicant (the registry's first person)."""
        super().__init__(**columns)
        if applicant_email is not None:
            self.parties.append(Party(role="applicant", email=applicant_email, sub=applicant_sub,
                                      locale=applicant_locale, visible_from=attached_at, detached_at=detached_at,
                                      created_by=columns.get("created_by", "")))

    @property
    def file_prefix(self) -> str:
        return self.number.replace("/", "-")

    @property
    def applicant(self) -> Party | None:
        """The first applicant (else the first person): the party the one-person pages name."""
        return next((p for p in self.parties if p.role == "applicant"), self.parties[0] if self.parties else None)

    @property
    def attached(self) -> list[Party]:
        """The people who see the application and are told of it (not those detached)."""
        return [p for p in self.parties if p.is_attached]

    # the applicant's fields, for the pages and tests that speak of one person
    @property
    def applicant_email(self) -> str | None:
        return self.applicant.email if self.applicant else None

    @property
    def applicant_sub(self) -> str | None:
        return self.applicant.sub if self.applicant else None

    @property
    def applicant_locale(self) -> str:
        return self.applicant.locale if self.applicant else "fr"

    @applicant_locale.setter
    def applicant_locale(self, locale: str) -> None:
        if self.applicant:
            self.applicant.locale = locale

    @property
    def attached_at(self) -> datetime | None:
        return self.applicant.visible_from if self.applicant else None

    @property
    def detached_at(self) -> datetime | None:
        return self.applicant.detached_at if self.applicant else None


class Party(Base):
    """A person an application is attached to, with their role: the account (the IdP's pairwise
    ``sub`` for this portal, given by the provisioning API's answer) sees the application and is
    told of it, in ``locale``. ``sub`` None: detached (the account's address changed, or the
    registry detached it), waiting for the registry to attach it again."""

    __tablename__ = "parties"
    __table_args__ = (Index("ix_parties_sub", "sub"),
                      UniqueConstraint("application_id", "email", name="uq_parties_application_email"))

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    application_id: Mapped[str] = mapped_column(ForeignKey("applications.id", ondelete="CASCADE"))
    role: Mapped[str] = mapped_column(String(20))  # ROLES
    email: Mapped[str] = mapped_column(String(320))
    sub: Mapped[str | None] = mapped_column(String(128))
    locale: Mapped[str] = mapped_column(String(8), default="fr")
    # the IdP's answer when invited: "pending" (invitation sent, account not yet activated) or "active"
    invitation: Mapped[str] = mapped_column(String(12), default="pending")
    invited_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=utcnow)
    first_seen_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))  # first sign-in in eComms
    # the person sees the documents from this moment on (an address re-attached after a change starts empty)
    visible_from: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    detached_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    detached_reason: Mapped[str | None] = mapped_column(String(20))  # address_change | registry
    created_by: Mapped[str] = mapped_column(String(128), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    application: Mapped[Application] = relationship(back_populates="parties")

    @property
    def is_attached(self) -> bool:
        return self.sub is not None and self.detached_at is None


class Document(Base):
    """A PDF from the Court (``from_court``: Inbox) or to the Court (``to_court``: Sent items)."""

    __tablename__ = "documents"
    __table_args__ = (Index("ix_documents_application", "application_id", "direction"),
                      Index("ix_documents_created", "created_at"), Index("ix_documents_deposit", "deposit_id"))

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    application_id: Mapped[str] = mapped_column(ForeignKey("applications.id", ondelete="CASCADE"))
    direction: Mapped[str] = mapped_column(String(10))
    doc_type: Mapped[str] = mapped_column(String(40))
    stored_name: Mapped[str] = mapped_column(String(300))
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    storage_key: Mapped[str] = mapped_column(String(80), unique=True)
    sender_sub: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    # first opened by its addressee's side: the Inbox marks the Court's documents "Nouveau" until the
    # applicant opens them, Sent items the applicant's until the registry does
    read_by_applicant_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    read_by_registry_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # the sending it was part of (one signed PDF receipt lists them all) and when its upload began;
    # None for documents deposited before receipts named deposits (their receipt lists them alone)
    deposit_id: Mapped[str | None] = mapped_column(String(36))
    upload_started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # the registry's work queue: a filing is new (unread), read, then processed by a registry member
    processed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    processed_by: Mapped[str | None] = mapped_column(String(128))
    # when the registry's mailbox was told of this filing (at once, or in the daily digest)
    registry_notified_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    application: Mapped[Application] = relationship(back_populates="documents")
