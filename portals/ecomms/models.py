"""eComms records: applications (requêtes) and their documents, keyed on the IdP's ``sub`` only.

The portal keeps no password and no copy of the account: an applicant is the pairwise subject
the IdP gives this portal (known in advance through the provisioning API's answer) and the
address the Court used to invite them.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import BigInteger, DateTime, ForeignKey, Index, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from shared.outbox.models import define_outbox
from shared.timeutil import utcnow


class Base(DeclarativeBase):
    pass


OutboxMessage = define_outbox(Base)


def new_id() -> str:
    return str(uuid.uuid4())


class Application(Base):
    """A requête, e.g. ``123/16``, opened to electronic communication by the Court's registry."""

    __tablename__ = "applications"
    __table_args__ = (Index("ix_applications_applicant", "applicant_sub", "status"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    number: Mapped[str] = mapped_column(String(20), unique=True)
    title: Mapped[str] = mapped_column(String(300))
    status: Mapped[str] = mapped_column(String(12), default="open")  # open | closed
    applicant_email: Mapped[str] = mapped_column(String(320))
    applicant_sub: Mapped[str | None] = mapped_column(String(128))  # None: detached (address changed)
    applicant_locale: Mapped[str] = mapped_column(String(8), default="fr")  # the notices' language
    # the applicant sees the documents from this moment on (a re-attached address starts empty)
    attached_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    detached_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_by: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # closed with a grace period: the applicant may still download until then ([closing] grace_days)
    purge_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    documents: Mapped[list[Document]] = relationship(back_populates="application", cascade="all, delete-orphan",
                                                     order_by="Document.created_at.desc()")

    @property
    def file_prefix(self) -> str:
        return self.number.replace("/", "-")


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
    application: Mapped[Application] = relationship(back_populates="documents")
