"""Organisations and delegated permissions (seed 002), in SQL.

Records:
- ``Organisation``: a town hall, association or grouping of communes, with its postal address
  and its legal representative (name and title: "Maire", "Président"...). Letters with
  confirmation codes are addressed to the legal representative at this address.
- ``Membership``: an account in an organisation, ``role`` user|administrator, ``status``
  pending|active|invalidated. One account may hold several (one person, several organisations).
- ``AdminRequest``: a request to become an organisation's administrator, waiting for the legal
  representative's confirmation codes (stored hashed, expiring). status pending|validated|superseded.
- ``Subscription``: the organisation subscribes to an e-service of the catalogue.
- ``Grant``: a membership may use an e-service (the administrator grants it, himself included).

``OrganisationStore`` holds every query the services need; nothing else touches these tables.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Integer, String, UniqueConstraint, delete, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from idp.storage.sql.models import Account, AuditEvent, Base, new_id
from shared.timeutil import utcnow


class Organisation(Base):
    __tablename__ = "organisations"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(200), index=True)
    kind: Mapped[str] = mapped_column(String(32))  # commune | association | intercommunalite | autre
    siren: Mapped[str | None] = mapped_column(String(9), unique=True)
    rna: Mapped[str | None] = mapped_column(String(10), unique=True)  # associations: W and 9 digits
    address_line: Mapped[str] = mapped_column(String(300))
    postcode: Mapped[str] = mapped_column(String(10))
    city: Mapped[str] = mapped_column(String(120))
    legal_rep_name: Mapped[str] = mapped_column(String(200))
    legal_rep_title: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    # an operator suspended it (the operators' console): no member acts for it until unsuspended
    suspended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    suspension_reason: Mapped[str | None] = mapped_column(String(300))


class Membership(Base):
    __tablename__ = "org_memberships"
    __table_args__ = (UniqueConstraint("account_id", "organisation_id", name="uq_membership_account_org"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    organisation_id: Mapped[str] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(16), default="user")  # user | administrator
    status: Mapped[str] = mapped_column(String(16), default="pending", index=True)  # pending|active|invalidated
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    decided_by: Mapped[str | None] = mapped_column(String(36))


class AdminRequest(Base):
    __tablename__ = "org_admin_requests"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    reference: Mapped[str] = mapped_column(String(16), unique=True)  # printed on the letter
    organisation_id: Mapped[str] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"), index=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    code_hash_1: Mapped[str] = mapped_column(String(64))
    code_hash_2: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), default="pending", index=True)  # pending|validated|superseded
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class Subscription(Base):
    __tablename__ = "org_subscriptions"
    __table_args__ = (UniqueConstraint("organisation_id", "eservice_id", name="uq_subscription_org_eservice"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    organisation_id: Mapped[str] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"), index=True)
    eservice_id: Mapped[str] = mapped_column(String(64))
    subscribed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    subscribed_by: Mapped[str | None] = mapped_column(String(36))


class Grant(Base):
    __tablename__ = "org_grants"
    __table_args__ = (UniqueConstraint("membership_id", "eservice_id", name="uq_grant_membership_eservice"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    membership_id: Mapped[str] = mapped_column(ForeignKey("org_memberships.id", ondelete="CASCADE"), index=True)
    eservice_id: Mapped[str] = mapped_column(String(64))
    granted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    granted_by: Mapped[str | None] = mapped_column(String(36))


class OrganisationStore:
    """Every query on the organisation tables, on one SQLAlchemy session (one transaction)."""

    def __init__(self, session: Session):
        self.session = session
        self.after_commit: list = []  # callables the caller runs once the transaction committed

    def add(self, record) -> None:
        self.session.add(record)
        self.session.flush()

    def delete(self, record) -> None:
        self.session.delete(record)
        self.session.flush()

    # organisations
    def organisation(self, organisation_id: str) -> Organisation | None:
        return self.session.get(Organisation, organisation_id)

    def organisations(self) -> list[Organisation]:
        return list(self.session.scalars(select(Organisation).order_by(Organisation.name)))

    def organisation_by_siren(self, siren: str) -> Organisation | None:
        return self.session.scalar(select(Organisation).where(Organisation.siren == siren))

    def organisations_created_before(self, moment: datetime) -> list[Organisation]:
        return list(self.session.scalars(select(Organisation).where(Organisation.created_at < moment)))

    def pending_memberships_created_before(self, moment: datetime) -> list[Membership]:
        return list(self.session.scalars(select(Membership).where(Membership.status == "pending",
                                                                  Membership.created_at < moment)))

    def live_admin_request(self, account_id: str | None, organisation_id: str, now: datetime) -> bool:
        """A pending administrator request (its letter's codes) still valid, by this person or anyone."""
        query = select(AdminRequest.id).where(AdminRequest.organisation_id == organisation_id,
                                              AdminRequest.status == "pending", AdminRequest.expires_at > now)
        if account_id is not None:
            query = query.where(AdminRequest.account_id == account_id)
        return self.session.scalar(query.limit(1)) is not None

    def remove_organisation(self, organisation: Organisation) -> None:
        """The organisation and everything of it (explicitly: SQLite may not enforce the cascades)."""
        memberships = list(self.session.scalars(select(Membership.id).where(Membership.organisation_id == organisation.id)))
        self.session.execute(delete(Grant).where(Grant.membership_id.in_(memberships)))
        for model in (Membership, AdminRequest, Subscription):
            self.session.execute(delete(model).where(model.organisation_id == organisation.id))
        self.session.delete(organisation)
        self.session.flush()

    def organisation_by_rna(self, rna: str) -> Organisation | None:
        return self.session.scalar(select(Organisation).where(Organisation.rna == rna))

    def admin_requests_of_organisation(self, organisation_id: str) -> list[AdminRequest]:
        return list(self.session.scalars(select(AdminRequest).where(AdminRequest.organisation_id == organisation_id)
                                         .order_by(AdminRequest.created_at.desc())))

    # accounts (read-only here; the account store belongs to the core)
    def account(self, account_id: str) -> Account | None:
        return self.session.get(Account, account_id)

    def account_by_email(self, email: str) -> Account | None:
        return self.session.scalar(select(Account).where(Account.email == email.strip().lower()))

    def username_taken(self, username: str) -> bool:
        return self.session.scalar(select(Account.id).where(Account.username == username)) is not None

    # memberships
    def membership(self, membership_id: str) -> Membership | None:
        return self.session.get(Membership, membership_id)

    def membership_of(self, account_id: str, organisation_id: str) -> Membership | None:
        return self.session.scalar(select(Membership).where(
            Membership.account_id == account_id, Membership.organisation_id == organisation_id))

    def memberships_of_account(self, account_id: str) -> list[tuple[Membership, Organisation]]:
        rows = self.session.execute(
            select(Membership, Organisation).join(Organisation, Organisation.id == Membership.organisation_id)
            .where(Membership.account_id == account_id).order_by(Organisation.name))
        return [(m, o) for m, o in rows]

    def members(self, organisation_id: str) -> list[tuple[Membership, Account]]:
        rows = self.session.execute(
            select(Membership, Account).join(Account, Account.id == Membership.account_id)
            .where(Membership.organisation_id == organisation_id)
            .order_by(Membership.status, Account.family_name, Account.given_name))
        return [(m, a) for m, a in rows]

    # administrator requests
    def admin_request(self, request_id: str) -> AdminRequest | None:
        return self.session.get(AdminRequest, request_id)

    def admin_request_by_reference(self, reference: str) -> AdminRequest | None:
        return self.session.scalar(select(AdminRequest).where(AdminRequest.reference == reference))

    def pending_admin_requests(self, organisation_id: str) -> list[AdminRequest]:
        return list(self.session.scalars(select(AdminRequest).where(
            AdminRequest.organisation_id == organisation_id, AdminRequest.status == "pending")))

    def admin_requests_since(self, since: datetime, organisation_id: str | None = None,
                             account_id: str | None = None) -> list[AdminRequest]:
        """Requests (whatever their status) made after ``since``, for one organisation or one person."""
        query = select(AdminRequest).where(AdminRequest.created_at > since)
        if organisation_id is not None:
            query = query.where(AdminRequest.organisation_id == organisation_id)
        if account_id is not None:
            query = query.where(AdminRequest.account_id == account_id)
        return list(self.session.scalars(query))

    def lock_organisation(self, organisation_id: str) -> None:
        """Hold the organisation's row until the transaction ends (PostgreSQL: FOR UPDATE; SQLite
        serialises writers anyway), so two requests at once count each other."""
        self.session.execute(select(Organisation.id).where(Organisation.id == organisation_id).with_for_update())

    def admin_requests_of_account(self, account_id: str) -> list[AdminRequest]:
        return list(self.session.scalars(select(AdminRequest).where(AdminRequest.account_id == account_id)
                                         .order_by(AdminRequest.created_at.desc())))

    # subscriptions and grants
    def subscriptions(self, organisation_id: str) -> list[Subscription]:
        return list(self.session.scalars(select(Subscription).where(Subscription.organisation_id == organisation_id)
                                         .order_by(Subscription.eservice_id)))

    def subscription(self, organisation_id: str, eservice_id: str) -> Subscription | None:
        return self.session.scalar(select(Subscription).where(
            Subscription.organisation_id == organisation_id, Subscription.eservice_id == eservice_id))

    def grants_of_membership(self, membership_id: str) -> list[Grant]:
        return list(self.session.scalars(select(Grant).where(Grant.membership_id == membership_id)
                                         .order_by(Grant.eservice_id)))

    def grant(self, membership_id: str, eservice_id: str) -> Grant | None:
        return self.session.scalar(select(Grant).where(
            Grant.membership_id == membership_id, Grant.eservice_id == eservice_id))

    def grants_of_organisation(self, organisation_id: str, eservice_id: str | None = None) -> list[Grant]:
        query = (select(Grant).join(Membership, Membership.id == Grant.membership_id)
                 .where(Membership.organisation_id == organisation_id))
        if eservice_id:
            query = query.where(Grant.eservice_id == eservice_id)
        return list(self.session.scalars(query))

    def last_event(self, kind: str, account_id: str) -> AuditEvent | None:
        """The account's latest audit event of this kind (e.g. when it stopped being an administrator)."""
        return self.session.scalar(select(AuditEvent).where(AuditEvent.kind == kind, AuditEvent.account_id == account_id)
                                   .order_by(AuditEvent.at.desc(), AuditEvent.id.desc()).limit(1))

    def organisation_events(self, organisation_id: str, limit: int = 50, scan: int = 2000) -> list[AuditEvent]:
        """The latest ``org.*`` audit events about this organisation, newest first (the organisation is
        in each event's detail; the newest ``scan`` events of that kind are read)."""
        events = self.session.scalars(select(AuditEvent).where(AuditEvent.kind.like("org.%"))
                                      .order_by(AuditEvent.at.desc(), AuditEvent.id.desc()).limit(scan))
        return [e for e in events if (e.detail or {}).get("organisation") == organisation_id][:limit]
