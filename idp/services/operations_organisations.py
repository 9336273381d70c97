"""The operators' console on organisations: the list, each one's members, administrator requests
and the letters they sent (the outbox rows of ``courrier-<reference>.pdf``), and suspension.

A suspended organisation (``suspended_at``) has no active membership for the delegation rules
(idp.services.permissions): nobody acts for it, administers it or uses its e-services, at once,
since portals ask the IdP live; unsuspending gives everything back as it was.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select

from idp.services import audit, text_fields
from idp.storage.sql.organisations import AdminRequest, Membership, Organisation, OrganisationStore
from idp.storage.sql.outbox import OutboxMessage
from shared.appkit import get_db
from shared.timeutil import utcnow

REASON_MAX = 300


def listing(text: str = "") -> list[dict]:
    words = " ".join(text.split()).lower()
    with get_db().session() as session:
        pending = dict(session.execute(select(AdminRequest.organisation_id, func.count())
                                       .where(AdminRequest.status == "pending")
                                       .group_by(AdminRequest.organisation_id)).all())
        members = dict(session.execute(select(Membership.organisation_id, func.count())
                                       .where(Membership.status == "active").group_by(Membership.organisation_id)).all())
        rows = OrganisationStore(session).organisations()
        return [{"organisation": org, "pending_requests": pending.get(org.id, 0), "members": members.get(org.id, 0)}
                for org in rows
                if not words or words in org.name.lower() or words in (org.siren or "") or words in (org.rna or "").lower()
                or words in org.city.lower()]


@dataclass
class OrganisationView:
    organisation: Organisation
    members: list  # (Membership, Account)
    requests: list[dict]  # request, requester, letter (an OutboxMessage or None)


def view(organisation_id: str) -> OrganisationView | None:
    with get_db().session() as session:
        store = OrganisationStore(session)
        organisation = store.organisation(organisation_id)
        if organisation is None:
            return None
        requests = store.admin_requests_of_organisation(organisation_id)
        names = [f"courrier-{r.reference}.pdf" for r in requests]
        letters = {row.attachment_name: row for row in session.scalars(
            select(OutboxMessage).where(OutboxMessage.channel == "letter", OutboxMessage.attachment_name.in_(names)))}
        return OrganisationView(organisation, store.members(organisation_id),
                                [{"request": r, "requester": store.account(r.account_id),
                                  "letter": letters.get(f"courrier-{r.reference}.pdf")} for r in requests])


class BadReason(ValueError):
    """code: required, control, too_long."""


def check_reason(reason: str) -> str:
    reason = text_fields.clean(reason)
    if not reason:
        raise BadReason("required")
    if text_fields.has_forbidden(reason):
        raise BadReason("control")
    if len(reason) > REASON_MAX:
        raise BadReason("too_long")
    return reason


def set_suspended(operator_id: str, organisation_id: str, suspended: bool, reason: str = "") -> None:
    reason = check_reason(reason) if suspended else ""
    with get_db().session() as session:
        organisation = session.get(Organisation, organisation_id)
        if organisation is None:
            raise LookupError(organisation_id)
        if suspended:
            organisation.suspended_at = organisation.suspended_at or utcnow()
            organisation.suspension_reason = reason
        else:
            organisation.suspended_at, organisation.suspension_reason = None, None
        audit.record("operations_organisation_suspended" if suspended else "operations_organisation_unsuspended",
                     operator_id, within=session, operator=operator_id, organisation=organisation_id,
                     **({"reason": reason} if suspended else {}))
