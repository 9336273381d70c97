"""The audit trail as the console reads it: filters (account, client, kind, a date range given in
Paris days, stored in UTC), pages, and a CSV export (RFC 4180) that a spreadsheet cannot turn into
a formula: a cell starting with = + - @ (or a tab or carriage return) is prefixed with an
apostrophe (OWASP "CSV injection"), since events carry text other people typed (an email address,
a user agent, a reason)."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import func, select

from idp.services import audit
from idp.services.accounts import find_by_identifier
from idp.storage.sql.models import Account, AuditEvent
from shared.appkit import get_db
from shared.timeutil import STRASBOURG, as_utc, to_strasbourg

PAGE_SIZE = 50
EXPORT_LIMIT = 100_000
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
COLUMNS = ("at_utc", "at_paris", "kind", "account_id", "account_email", "client_id", "ip", "detail")


class BadFilter(ValueError):
    """``errors``: field → code (invalid: not a date; order: the range ends before it starts)."""

    def __init__(self, errors: dict[str, str]):
        super().__init__(", ".join(errors))
        self.errors = errors


@dataclass(frozen=True)
class Filters:
    account: str = ""  # an account id, an email or an identifier
    client: str = ""
    kind: str = ""
    since: str = ""  # YYYY-MM-DD, a day in Paris
    until: str = ""

    @classmethod
    def from_args(cls, args) -> Filters:
        return cls(**{name: " ".join(str(args.get(name, "")).split())[:320] for name in cls.__dataclass_fields__})

    def as_args(self) -> dict[str, str]:
        return {name: value for name, value in asdict(self).items() if value}


def _day(value: str, field: str, errors: dict[str, str]) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        errors[field] = "invalid"
        return None


def paris_midnight_utc(day: date) -> datetime:
    """The first moment of a Paris day, in UTC (23:00 or 22:00 the day before, as the season says)."""
    return datetime.combine(day, time(0), tzinfo=STRASBOURG).astimezone(UTC)


def _conditions(filters: Filters) -> list:
    errors: dict[str, str] = {}
    since, until = _day(filters.since, "since", errors), _day(filters.until, "until", errors)
    if since and until and until < since:
        errors["until"] = "order"
    if errors:
        raise BadFilter(errors)
    conditions = []
    if filters.account:
        found = find_by_identifier(filters.account) if "@" in filters.account or not _looks_like_id(filters.account) \
            else None
        conditions.append(AuditEvent.account_id == (found.id if found else filters.account))
    if filters.client:
        conditions.append(AuditEvent.client_id == filters.client)
    if filters.kind:
        conditions.append(AuditEvent.kind == filters.kind)
    if since:
        conditions.append(AuditEvent.at >= paris_midnight_utc(since))
    if until:
        conditions.append(AuditEvent.at < paris_midnight_utc(until + timedelta(days=1)))
    return conditions


def _looks_like_id(value: str) -> bool:
    return len(value) == 36 and value.count("-") == 4


@dataclass
class Page:
    events: list[AuditEvent]
    emails: dict[str, str]
    total: int
    page: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // PAGE_SIZE))


def _emails(session, events) -> dict[str, str]:
    ids = {e.account_id for e in events if e.account_id}
    if not ids:
        return {}
    return dict(session.execute(select(Account.id, Account.email).where(Account.id.in_(ids))).all())


def search(filters: Filters, page: int = 1) -> Page:
    conditions = _conditions(filters)
    with get_db().session() as session:
        total = session.scalar(select(func.count()).select_from(AuditEvent).where(*conditions)) or 0
        page = min(max(1, page), max(1, -(-total // PAGE_SIZE)))
        events = list(session.scalars(select(AuditEvent).where(*conditions).order_by(AuditEvent.id.desc())
                                      .offset((page - 1) * PAGE_SIZE).limit(PAGE_SIZE)))
        return Page(events, _emails(session, events), total, page)


def kinds() -> list[str]:
    with get_db().session() as session:
        return list(session.scalars(select(AuditEvent.kind).distinct().order_by(AuditEvent.kind)))


def safe_cell(value: object) -> str:
    """The text of one CSV cell, never read as a formula by a spreadsheet."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def export_csv(operator_id: str, filters: Filters) -> Iterator[str]:
    """The filtered events, oldest first, as RFC 4180 CSV (CRLF line ends, quotes doubled); the
    export itself is audited, with its filters."""
    conditions = _conditions(filters)
    audit.record("operations_audit_exported", operator_id, operator=operator_id, filters=filters.as_args())

    def rows() -> Iterator[str]:
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
        writer.writerow(COLUMNS)
        with get_db().session() as session:
            events = list(session.scalars(select(AuditEvent).where(*conditions).order_by(AuditEvent.id)
                                          .limit(EXPORT_LIMIT)))
            emails = _emails(session, events)
        for event in events:
            at = as_utc(event.at)
            writer.writerow([safe_cell(v) for v in (
                at.isoformat(), to_strasbourg(at).isoformat(), event.kind, event.account_id,
                emails.get(event.account_id or ""), event.client_id, event.ip,
                json.dumps(event.detail or {}, ensure_ascii=False, sort_keys=True, default=str))])
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
        if not events:
            yield buffer.getvalue()

    return rows()
