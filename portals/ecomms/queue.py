"""The registry's work queue: every filing (a document an applicant or representative sent to the
Court) is new until a registry member opens it, then read, then processed when marked so; searched
by application number, party (a person's address or the application's title), Strasbourg date
range, document type and state, a page at a time. Only the registry reaches it (the views check
the role); every criterion is bounded and matched literally (no wildcard of the searcher's)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import exists, func, or_, select
from sqlalchemy.orm import Session

from portals.ecomms.models import Application, Document, Party
from shared.rp.session import Principal
from shared.timeutil import STRASBOURG, utcnow

STATES = ("new", "read", "processed")
PAGE_SIZE = 25
MAX_TERM = 100


@dataclass
class Criteria:
    number: str = ""
    party: str = ""
    date_from: date | None = None
    date_to: date | None = None
    doc_type: str = ""
    state: str = ""
    page: int = 1
    errors: dict[str, str] = field(default_factory=dict)

    def as_args(self) -> dict[str, str]:
        """The criteria as query arguments (the pages' links keep them)."""
        values = {"number": self.number, "party": self.party, "doc_type": self.doc_type, "state": self.state,
                  "date_from": self.date_from.isoformat() if self.date_from else "",
                  "date_to": self.date_to.isoformat() if self.date_to else ""}
        return {k: v for k, v in values.items() if v}


def criteria_from(args, doc_types) -> Criteria:
    """Read the search form; a bad value is named in ``errors`` (and not applied), never a 500."""
    found = Criteria(number=args.get("number", "").strip()[:MAX_TERM], party=args.get("party", "").strip()[:MAX_TERM])
    doc_type, state = args.get("doc_type", ""), args.get("state", "")
    if doc_type and doc_type not in doc_types:
        found.errors["doc_type"] = "doc_type"
    else:
        found.doc_type = doc_type
    if state and state not in STATES:
        found.errors["state"] = "state"
    else:
        found.state = state
    for name in ("date_from", "date_to"):
        raw = args.get(name, "").strip()
        if raw:
            try:
                setattr(found, name, date.fromisoformat(raw[:10]))
            except ValueError:
                found.errors[name] = "date"
    if found.date_from and found.date_to and found.date_from > found.date_to:
        found.errors["date_to"] = "date_order"
        found.date_to = None
    page = args.get("page", "1")
    found.page = int(page) if page.isdigit() and 0 < int(page) < 100000 else 1
    return found


def _literal(term: str) -> str:
    """A LIKE pattern matching ``term`` anywhere, its own % _ and \\ taken literally."""
    return "%" + term.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def _strasbourg_midnight_utc(day: date) -> datetime:
    return datetime.combine(day, time(0), STRASBOURG).astimezone(UTC)


def state_of(document: Document) -> str:
    if document.processed_at is not None:
        return "processed"
    return "read" if document.read_by_registry_at is not None else "new"


@dataclass
class Page:
    items: list[Document]
    total: int
    number: int
    pages: int


def search(session: Session, criteria: Criteria) -> Page:
    query = select(Document).join(Application, Application.id == Document.application_id) \
        .where(Document.direction == "to_court")
    if criteria.number:
        whole = re.fullmatch(r"[0-9]{1,7}/[0-9]{2}", criteria.number)  # a whole number: that application only
        query = query.where(Application.number == criteria.number if whole else
                            Application.number.like(_literal(criteria.number), escape="\\"))
    if criteria.party:
        pattern = _literal(criteria.party)
        query = query.where(or_(func.lower(Application.title).like(pattern, escape="\\"),
                                exists().where(Party.application_id == Application.id,
                                               func.lower(Party.email).like(pattern, escape="\\"))))
    if criteria.date_from:
        query = query.where(Document.created_at >= _strasbourg_midnight_utc(criteria.date_from))
    if criteria.date_to:
        query = query.where(Document.created_at < _strasbourg_midnight_utc(criteria.date_to + timedelta(days=1)))
    if criteria.doc_type:
        query = query.where(Document.doc_type == criteria.doc_type)
    if criteria.state == "processed":
        query = query.where(Document.processed_at.is_not(None))
    elif criteria.state == "read":
        query = query.where(Document.processed_at.is_(None), Document.read_by_registry_at.is_not(None))
    elif criteria.state == "new":
        query = query.where(Document.processed_at.is_(None), Document.read_by_registry_at.is_(None))
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    pages = max(1, -(-total // PAGE_SIZE))
    number = min(criteria.page, pages)
    items = list(session.scalars(query.order_by(Document.created_at.desc(), Document.id)
                                 .offset((number - 1) * PAGE_SIZE).limit(PAGE_SIZE)))
    return Page(items=items, total=total, number=number, pages=pages)


def mark_processed(document: Document, principal: Principal, processed: bool) -> None:
    """Processed by this registry member (opened too, if no one had), or back to read."""
    if document.direction != "to_court":
        raise ValueError("only filings are processed")
    if processed:
        document.read_by_registry_at = document.read_by_registry_at or utcnow()
        document.processed_at, document.processed_by = document.processed_at or utcnow(), principal.sub
    else:
        document.processed_at, document.processed_by = None, None
