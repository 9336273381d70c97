"""The people an application is attached to (finding 11): an applicant and representatives (lawyers),
each invited through the IdP's provisioning API (its answer: their subject for this portal and
whether the account still waits for activation), each seeing the application and told of it in
their own language. The registry attaches, re-attaches, changes a role, removes; who may see an
application is decided here (``party_for``), from the account's subject and nothing the browser sends.
"""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from portals.ecomms import notices
from portals.ecomms.models import ROLES, Application, OutboxMessage, Party
from shared.rp.session import Principal
from shared.timeutil import utcnow

LOCALES = ("fr", "en")


class PartyRefused(Exception):
    """The registry's change is refused; ``code`` names why (the views word it)."""

    def __init__(self, code: str):
        super().__init__(code)
        self.code = code


def party_for(application: Application, principal: Principal) -> Party | None:
    """This account's attachment to the application, if it has one (detached people have none)."""
    return next((p for p in application.attached if p.sub == principal.sub), None)


def applications_query(sub: str):
    """The applications an account is attached to (never by a detached or removed attachment)."""
    return (select(Application).join(Party, Party.application_id == Application.id)
            .where(Party.sub == sub, Party.detached_at.is_(None)).distinct())


def note_seen(session: Session, sub: str) -> None:
    """The account signed in to eComms: its invitations are accepted (the registry's status shows it).
    Read first: on nearly every page view there is nothing to mark, and an UPDATE, even of no row,
    takes SQLite's write lock, which every other worker's page view then waits for."""
    unseen = (Party.sub == sub, Party.first_seen_at.is_(None))
    if session.scalar(select(Party.id).where(*unseen).limit(1)) is not None:
        session.execute(update(Party).where(*unseen).values(first_seen_at=utcnow(), invitation="active"))


def status_of(party: Party) -> str:
    """What the registry reads of a person: detached, signed in, account active, or invitation pending."""
    if not party.is_attached:
        return "detached"
    if party.first_seen_at:
        return "seen"
    return "active" if party.invitation == "active" else "pending"


def _check(application: Application, email: str, role: str, locale: str, party: Party | None = None) -> None:
    from portals.ecomms.services import EMAIL_RE, writable

    writable(application)
    if not EMAIL_RE.match(email) or len(email) > 320:
        raise PartyRefused("email")
    if role not in ROLES:
        raise PartyRefused("role")
    if locale not in LOCALES:
        raise PartyRefused("locale")
    if any(p.email == email and p is not party for p in application.parties):
        raise PartyRefused("already_attached")


def attach(session: Session, application: Application, principal: Principal, email: str, role: str,
           locale: str, invite) -> Party:
    """A new person on the application, invited (``invite(email, locale)`` → (sub, status)); told by email.
    A representative sees the whole application, its earlier documents included."""
    email = email.strip().lower()
    _check(application, email, role, locale)
    sub, status = invite(email, locale)
    party = Party(role=role, email=email, sub=sub, locale=locale, invitation=status, invited_at=utcnow(),
                  created_by=principal.sub)
    application.parties.append(party)
    session.flush()
    notices.new_application(session, application, party)
    return party


def reattach(session: Session, application: Application, party: Party, email: str, locale: str, invite) -> None:
    """A detached person attached again, to the same or another address (a new lawyer of the firm, the
    applicant's new address). After an address change the person starts with an empty Inbox and Sent
    items (seed 000: nothing is carried over)."""
    email = email.strip().lower()
    _check(application, email, party.role, locale, party)
    if party.is_attached:
        raise PartyRefused("attached")
    sub, status = invite(email, locale)
    now = utcnow()
    if party.detached_reason == "address_change":
        party.visible_from = now
    party.email, party.sub, party.locale, party.invitation, party.invited_at = email, sub, locale, status, now
    party.first_seen_at, party.detached_at, party.detached_reason = None, None, None
    session.flush()
    notices.new_application(session, application, party)


def reinvite(application: Application, party: Party, invite) -> None:
    """The invitation sent again (an activation link that expired); the IdP's answer updates the status."""
    if not party.is_attached:
        raise PartyRefused("detached")
    party.sub, party.invitation = invite(party.email, party.locale)
    party.invited_at = utcnow()


def change_role(application: Application, party: Party, role: str) -> None:
    from portals.ecomms.services import writable

    writable(application)
    if role not in ROLES:
        raise PartyRefused("role")
    party.role = role


def remove(session: Session, application: Application, party: Party) -> None:
    """The person leaves the application (a lawyer who no longer represents): from the next request
    on, their account sees nothing of it and is told of nothing."""
    application.parties.remove(party)
    session.flush()


def detach(session: Session, party: Party) -> None:
    """The account's address changed: it no longer sees the application, the mails still waiting for
    the old address are cancelled (it is no longer the account's), nothing more is sent there, and the
    registry is told, so it can attach the application to the new address."""
    old_email = party.email
    party.sub, party.detached_at, party.detached_reason = None, utcnow(), "address_change"
    session.execute(update(OutboxMessage).where(OutboxMessage.recipient == old_email,
                                                OutboxMessage.status == "pending")
                    .values(status="cancelled", last_error="address no longer the account's"))
    notices.detached(session, party.application, old_email)


def detach_subject(session: Session, sub: str) -> list[Party]:
    """Every attachment of this account is detached after its address changed (the IdP's event, or the
    registry by hand when the event was abandoned after its retries)."""
    parties = list(session.scalars(select(Party).where(Party.sub == sub, Party.detached_at.is_(None))))
    for party in parties:
        detach(session, party)
    return parties
