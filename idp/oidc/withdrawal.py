"""A person withdraws a service from the account page: the client loses what the person gave it.

In order: its refresh tokens are revoked and their grants marked (the access tokens issued under
them stop at once), its recorded consent is forgotten (a third-party client asks again), and
every open IdP session forgets the client and tells it by back-channel logout, so the portal's
own session ends too. An access token issued without a refresh token lives out its few minutes
(``lifetimes.access_token``): it names no grant the IdP kept.
"""

from __future__ import annotations

from sqlalchemy import delete, select, update

from idp.oidc import claims as claims_module
from idp.oidc import tokens
from idp.oidc.logout import deliver_now
from idp.services import audit, clients, sessions
from idp.storage.sql.models import Consent, RefreshToken
from shared.appkit import get_db
from shared.timeutil import utcnow


def withdraw(account_id: str, client_id: str) -> None:
    client = clients.get(client_id)
    tokens.mark_withdrawn(account_id, client_id)  # first: a code issued before is refused from now on
    with get_db().session() as db:
        families = set(db.scalars(select(RefreshToken.family_id).where(
            RefreshToken.account_id == account_id, RefreshToken.client_id == client_id)))
        db.execute(update(RefreshToken).where(RefreshToken.account_id == account_id,
                                              RefreshToken.client_id == client_id,
                                              RefreshToken.revoked_at.is_(None)).values(revoked_at=utcnow()))
        db.execute(delete(Consent).where(Consent.account_id == account_id, Consent.client_id == client_id))
    for family in families:
        tokens.revoke_grant(family)
    logouts = []
    for session in sessions.list_sessions(account_id):
        if client_id in session.clients:
            session.clients.remove(client_id)
            sessions.save(session)
            if client and client.backchannel_logout_uri:
                logouts.append({"client_id": client_id, "sub": claims_module.pairwise_sub(account_id, client),
                                "sid": session.sid, "attempts": 0})
    deliver_now(logouts)
    audit.record("service_withdrawn", account_id, client_id, grants=len(families))
