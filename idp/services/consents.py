"""Consent: implicit for first-party portals (recorded at the IdP by policy), asked for others.

A consent is recorded against the account, the client and the scopes the person saw; a request
for any scope beyond them asks again (consent is never "per client" alone).
"""

from __future__ import annotations

from idp.storage.sql.models import Consent
from shared.appkit import get_db


def has_consent(account_id: str, client, scopes: list[str]) -> bool:
    if client.first_party:
        return True
    with get_db().session() as session:
        found = session.get(Consent, (account_id, client.client_id))
        return found is not None and set(scopes) <= set((found.scope or "").split())


def grant(account_id: str, client, scopes: list[str]) -> None:
    """Record the scopes shown on the consent page (added to those consented before)."""
    with get_db().session() as session:
        existing = session.get(Consent, (account_id, client.client_id))
        if existing:
            existing.scope = " ".join(dict.fromkeys([*(existing.scope or "").split(), *scopes]))
        else:
            session.add(Consent(account_id=account_id, client_id=client.client_id, scope=" ".join(scopes)))
