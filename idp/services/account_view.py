"""What the account page shows about where the account is used (read-only queries)."""

from __future__ import annotations

from sqlalchemy import func, select

from idp.services import clients, sessions
from idp.storage.sql.models import Client, Consent, RefreshToken
from shared.appkit import get_db


def applications_of(account_id: str) -> list[dict]:
    """Every client the account signed in to: open sessions, refresh tokens, recorded consents."""
    seen: dict[str, dict] = {}
    for session in sessions.list_sessions(account_id):
        for client_id in session.clients:
            seen.setdefault(client_id, {"last_used": None})
    with get_db().session() as db:
        for client_id, last in db.execute(select(RefreshToken.client_id, func.max(RefreshToken.issued_at))
                                          .where(RefreshToken.account_id == account_id)
                                          .group_by(RefreshToken.client_id)):
            seen[client_id] = {"last_used": last}
        for client_id in db.scalars(select(Consent.client_id).where(Consent.account_id == account_id)):
            seen.setdefault(client_id, {"last_used": None})
        names = dict(db.execute(select(Client.client_id, Client.name).where(Client.client_id.in_(list(seen)))).all())
    return sorted(({"client_id": c, "name": names.get(c, c), **v} for c, v in seen.items() if c in names),
                  key=lambda a: a["name"])


def services_losing_content(account_id: str) -> list[dict]:
    """The services this account used whose content stays with the old address when it changes
    (``policy.email_change_keeps_content = false``, eComms): the email page warns of each."""
    found = []
    for used in applications_of(account_id):
        client = clients.get(used["client_id"])
        if client and (client.policy or {}).get("email_change_keeps_content") is False:
            found.append({"name": used["name"], "url": clients.login_url(client)})
    return found
