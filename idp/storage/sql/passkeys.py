"""Passkeys (WebAuthn credentials, W3C WebAuthn Level 3): one row per credential an account
registered. Only the public key is kept; the private key never leaves the person's authenticator."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, DateTime, ForeignKey, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from idp.storage.sql.models import Base, new_id
from shared.timeutil import utcnow


class Passkey(Base):
    """``credential_id`` is the authenticator's id for the credential (base64url), unique across
    accounts; ``sign_count`` the last signature counter seen (a clone shows a counter that did not
    move forward); ``backup_eligible``: a synced passkey (amr ``swk``) rather than one bound to a
    device (``hwk``)."""

    __tablename__ = "passkeys"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    credential_id: Mapped[str] = mapped_column(String(1400), unique=True)
    public_key: Mapped[bytes] = mapped_column(LargeBinary)
    sign_count: Mapped[int] = mapped_column(Integer, default=0)
    name: Mapped[str] = mapped_column(String(64))
    transports: Mapped[list] = mapped_column(default=list)
    aaguid: Mapped[str] = mapped_column(String(36), default="")
    backup_eligible: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
