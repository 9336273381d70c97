"""The audit trail of security events (append-only rows in SQL)."""

from __future__ import annotations

from flask import has_request_context, request
from sqlalchemy.orm import Session

from idp.storage.sql.models import AuditEvent
from shared.appkit import get_db, get_settings
from shared.metrics import count_security_event
from shared.request_log import log_security_event


def record(kind: str, account_id: str | None = None, client_id: str | None = None, *,
           within: Session | None = None, **detail) -> None:
    """Append one event; ``within`` a caller's transaction, it is written (or not) with the change it records."""
    count_security_event(kind)
    log_security_event(get_settings().app_name, kind, account_id=account_id, client_id=client_id)
    ip = request.remote_addr if has_request_context() else None
    event = AuditEvent(kind=kind, account_id=account_id, client_id=client_id, ip=ip, detail=detail)
    if within is not None:
        within.add(event)
        return
    with get_db().session() as session:
        session.add(event)
