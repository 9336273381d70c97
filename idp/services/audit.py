"""The audit trail of security events (append-only rows in SQL)."""

from __future__ import annotations

from flask import has_request_context, request

from idp.storage.sql.models import AuditEvent
from shared.appkit import get_db


def record(kind: str, account_id: str | None = None, client_id: str | None = None, **detail) -> None:
    ip = request.remote_addr if has_request_context() else None
    with get_db().session() as session:
        session.add(AuditEvent(kind=kind, account_id=account_id, client_id=client_id, ip=ip, detail=detail))
