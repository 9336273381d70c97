"""What the account page shows about where and how the account is used: services, devices,
security events (read-only queries)."""

from __future__ import annotations

from sqlalchemy import func, select

from idp.services import clients, sessions
from idp.storage.sql.models import AuditEvent, Client, Consent, RefreshToken
from shared.appkit import get_db
from shared.timeutil import as_utc


def applications_of(account_id: str) -> list[dict]:
    """Every client the account signed in to: open sessions, refresh tokens, recorded consents."""
    seen: dict[str, dict] = {}
    for session in sessions.list_sessions(account_id):
        for client_id in session.clients:
            seen.setdefault(client_id, {"last_used": None})
    with get_db().session() as db:
        for client_id, last in db.execute(select(RefreshToken.client_id, func.max(RefreshToken.issued_at))
                                          .where(RefreshToken.account_id == account_id,
                                                 RefreshToken.revoked_at.is_(None))  # a withdrawn service holds nothing
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


def devices_of(account_id: str) -> list[dict]:
    """The open sessions as a person reads them: a device name, the network it came from, since
    when and its last activity (most recent first)."""
    from idp.services.device_names import device_name, network_of

    return sorted(({"sid": s.sid, "device": device_name(s.user_agent), "place": network_of(s.ip),
                    "since": s.created_at, "last_activity": sessions.last_activity(s)}
                   for s in sessions.list_sessions(account_id)), key=lambda d: d["last_activity"], reverse=True)


def services_of(account_id: str) -> list[dict]:
    """Each service the account used, its last use and the scopes it holds: those consented on its
    consent page (third-party), else those its last tokens carried (first-party portals, consent
    implied by policy)."""
    found = applications_of(account_id)
    with get_db().session() as db:
        consented = dict(db.execute(select(Consent.client_id, Consent.scope).where(Consent.account_id == account_id)).all())
        granted_at = dict(db.execute(select(Consent.client_id, Consent.granted_at)
                                     .where(Consent.account_id == account_id)).all())
        for service in found:
            latest = db.scalars(select(RefreshToken.scope).where(RefreshToken.account_id == account_id,
                                                                 RefreshToken.client_id == service["client_id"])
                                .order_by(RefreshToken.issued_at.desc()).limit(1)).first()
            scope = consented.get(service["client_id"]) or latest or ""
            service["scopes"] = [s for s in scope.split() if s != "openid"]
            moments = [m for m in (service["last_used"], granted_at.get(service["client_id"])) if m is not None]
            service["last_used"] = max(moments, key=as_utc) if moments else None
    return found


# what the person reads in their security journal (not the operators' own events)
PERSON_EVENTS = ("sign_in", "sign_in_failed", "logout", "password_changed", "password_reset", "reset_requested",
                 "email_change_requested", "email_changed", "second_factor_enabled", "second_factor_disabled",
                 "second_factor_failed", "recovery_code_used", "recovery_codes_regenerated", "passkey_added",
                 "passkey_renamed", "passkey_removed", "passkey_cloned", "passkey_refused", "service_withdrawn", "sessions_ended",
                 "operations_second_factor_reset", "operations_sessions_ended", "account_deactivated",
                 "account_reactivated")
EVENTS_SHOWN = 50


def security_events(account_id: str) -> list[AuditEvent]:
    with get_db().session() as db:
        rows = db.scalars(select(AuditEvent).where(AuditEvent.account_id == account_id,
                                                   AuditEvent.kind.in_(PERSON_EVENTS))
                          .order_by(AuditEvent.at.desc(), AuditEvent.id.desc()).limit(EVENTS_SHOWN)).all()
        db.expunge_all()
        return list(rows)
