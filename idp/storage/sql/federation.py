"""Federated identities (SQL): who signed in through which upstream provider, as which account.

- ``pivot_identities``: one per federated account — the identity last received and its
  ``linking_key`` (unique: one person, one account; see :mod:`idp.upstream.pivot`), NULL when it
  came from a standard provider (not a pivot identity: it links nothing).
- ``federated_identities``: (provider, upstream ``sub``) → account; unique per provider and subject.

:class:`IdentityStore` is the only code that touches these tables (one store per transaction).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, DateTime, ForeignKey, Integer, String, UniqueConstraint, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column

from idp.storage.sql.models import Account, Base, new_id
from shared.timeutil import utcnow

FEDERATED_EMAIL_DOMAIN = "federation.invalid"  # RFC 2606: never deliverable, never someone's address


class PivotIdentityRecord(Base):
    __tablename__ = "pivot_identities"

    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True)
    linking_key: Mapped[str | None] = mapped_column(String(64), unique=True, index=True, nullable=True)
    given_name: Mapped[str] = mapped_column(String(200))
    family_name: Mapped[str] = mapped_column(String(200))
    birthdate: Mapped[str] = mapped_column(String(10))
    gender: Mapped[str] = mapped_column(String(8))
    birthplace: Mapped[str] = mapped_column(String(10), default="")
    birthcountry: Mapped[str] = mapped_column(String(10))
    email: Mapped[str | None] = mapped_column(String(320))
    email_verified: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class FederatedIdentity(Base):
    __tablename__ = "federated_identities"
    __table_args__ = (UniqueConstraint("provider", "subject", name="uq_federated_provider_subject"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    provider: Mapped[str] = mapped_column(String(64))
    subject: Mapped[str] = mapped_column(String(255))
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class Conflict(Exception):
    """A concurrent sign-in created the same row first; the caller looks it up again."""


class IdentityStore:
    def __init__(self, session: Session):
        self.session = session

    def find_link(self, provider: str, subject: str) -> FederatedIdentity | None:
        return self.session.scalar(select(FederatedIdentity).where(
            FederatedIdentity.provider == provider, FederatedIdentity.subject == subject))

    def find_pivot_by_key(self, linking_key: str) -> PivotIdentityRecord | None:
        return self.session.scalar(select(PivotIdentityRecord).where(PivotIdentityRecord.linking_key == linking_key))

    def get_pivot(self, account_id: str) -> PivotIdentityRecord | None:
        return self.session.get(PivotIdentityRecord, account_id)

    def get_account(self, account_id: str) -> Account | None:
        return self.session.get(Account, account_id)

    def links_of(self, account_id: str) -> list[FederatedIdentity]:
        return list(self.session.scalars(select(FederatedIdentity).where(FederatedIdentity.account_id == account_id)
                                         .order_by(FederatedIdentity.id)))

    def create_federated_account(self, fields: dict, linking_key: str | None) -> Account:
        """A password-less, active account with its pivot identity (one savepoint)."""
        account_id = new_id()
        try:
            with self.session.begin_nested():
                account = Account(id=account_id, email=f"{account_id}@{FEDERATED_EMAIL_DOMAIN}", password_hash=None,
                                  status="active", email_verified=bool(fields.get("email_verified")),
                                  given_name=fields["given_name"] or None,
                                  family_name=fields["family_name"] or None)
                self.session.add(account)
                self.session.flush()
                self.session.add(PivotIdentityRecord(account_id=account_id, linking_key=linking_key, **fields))
                self.session.flush()
        except IntegrityError as error:
            raise Conflict(str(error)) from error
        return account

    def update_pivot(self, record: PivotIdentityRecord, fields: dict, linking_key: str | None) -> None:
        try:
            with self.session.begin_nested():
                for name, value in fields.items():
                    setattr(record, name, value)
                record.linking_key = linking_key
                record.updated_at = utcnow()
                self.session.flush()
        except IntegrityError as error:
            raise Conflict(str(error)) from error

    def add_link(self, provider: str, subject: str, account_id: str) -> FederatedIdentity:
        try:
            with self.session.begin_nested():
                link = FederatedIdentity(provider=provider, subject=subject, account_id=account_id)
                self.session.add(link)
                self.session.flush()
        except IntegrityError as error:
            raise Conflict(str(error)) from error
        return link

    def touch(self, link: FederatedIdentity) -> None:
        link.last_login_at = utcnow()
