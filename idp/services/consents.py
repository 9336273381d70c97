"""Consent: implicit for first-party portals (recorded at the IdP by policy), asked for others."""

from __future__ import annotations

from idp.storage.sql.models import Consent
from shared.appkit import get_db


def has_consent(account_id: str, client) -> bool:
    if client.first_party:
        return True
    with get_db().session() as session:
        return session.get(Consent, (account_id, client.client_id)) is not None


def grant(account_id: str, client, scope: str) -> None:
    with get_db().session() as session:
        existing = session.get(Consent, (account_id, client.client_id))
        if existing:
            existing.scope = scope
        else:
            session.add(Consent(account_id=account_id, client_id=client.client_id, scope=scope))
