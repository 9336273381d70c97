"""Account-lifecycle records: emailed links (activation, invitation, reset, email change) and
second factors. Link tokens are stored as SHA-256 digests only: a database leak reveals no link."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, DateTime, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from idp.storage.sql.models import Base, new_id
from shared.timeutil import utcnow


class AccountLink(Base):
    """A single-use link sent by email. ``purpose``: activation | reset | email_change."""

    __tablename__ = "account_links"
    __table_args__ = (Index("ix_account_links_account_purpose", "account_id", "purpose"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    purpose: Mapped[str] = mapped_column(String(16))
    # invitation: {"client_id": ...}; email change: {"new_email": ...}
    data: Mapped[dict] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class SecondFactor(Base):
    """A TOTP second factor and the account's recovery codes: the secret is encrypted with a key kept
    outside the database; it is empty when the account's factors are passkeys only (the row then
    holds just the recovery codes)."""

    __tablename__ = "second_factors"

    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True)
    secret_encrypted: Mapped[str] = mapped_column(String(255))
    recovery_code_hashes: Mapped[list] = mapped_column(JSON, default=list)
    enabled_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
