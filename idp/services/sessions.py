"""IdP sessions, server-side in Redis: who is signed in, how, since when, and at which clients.

The browser holds only the session's secret in the ``idp_sid`` cookie; the session's id (``sid``)
is a one-way digest of it. The id travels where OIDC puts it — the ``sid`` claim of ID, logout and
access tokens given to clients and resource servers, introspection, logs, the operators' console —
and none of those can be turned back into the cookie (outside review: the id *was* the cookie's
value, so every relying party held the means to sign in as the person). Ending a session
(logout, reset, "sign out this device") queues a back-channel logout to every client it touched
and revokes its refresh tokens.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import time
from dataclasses import asdict, dataclass, field
from typing import Any

from flask import g, request

from shared.appkit import get_redis, get_settings
from shared.cookies import host_only

COOKIE = "idp_sid"  # its name in development; ``cookie_name()`` is the one in use
LAST_SEEN_STEP = 60  # seconds: one write a minute at most per session for its last activity


@dataclass
class IdpSession:
    sid: str
    account_id: str
    auth_time: int
    amr: list[str]
    acr: str | None = None
    clients: list[str] = field(default_factory=list)
    context: dict[str, Any] = field(default_factory=dict)
    created_at: float = field(default_factory=time.time)
    user_agent: str = ""
    ip: str = ""
    last_seen: float = 0.0  # the last request of this browser with it (to the minute): the account page's "last activity"


def _lifetime() -> int:
    return int(get_settings().section("lifetimes").get("session", 43200))


def _key(sid: str) -> str:
    return f"idp:session:{sid}"


def _index(account_id: str) -> str:
    return f"idp:account-sessions:{account_id}"


def save(session: IdpSession) -> None:
    redis = get_redis()
    ttl = max(1, int(session.created_at + _lifetime() - time.time()))
    pipe = redis.pipeline()
    pipe.set(_key(session.sid), json.dumps(asdict(session)), ex=ttl)
    pipe.sadd(_index(session.account_id), session.sid)
    pipe.expire(_index(session.account_id), _lifetime())
    pipe.execute()


def sid_of(cookie_secret: str) -> str:
    """The public id of the session a cookie's secret opens (nothing leads back from it)."""
    return hashlib.sha256(f"idp-session:{cookie_secret}".encode()).hexdigest()[:43]


def create(account_id: str, amr: list[str], acr: str | None = None, context: dict | None = None) -> IdpSession:
    cookie_secret = secrets.token_urlsafe(32)
    session = IdpSession(sid=sid_of(cookie_secret), account_id=account_id, auth_time=int(time.time()),
                         amr=list(amr), acr=acr, context=dict(context or {}),
                         user_agent=request.headers.get("User-Agent", "")[:200], ip=request.remote_addr or "")
    save(session)
    session.cookie_secret = cookie_secret  # not a field: never saved, only sent in this response's cookie
    g.idp_session = session  # its cookie goes out with this response: the rest of the request acts for it
    return session


def load(sid: str | None) -> IdpSession | None:
    if not sid:
        return None
    raw = get_redis().get(_key(sid))
    return IdpSession(**json.loads(raw)) if raw else None


def current_session() -> IdpSession | None:
    """The session of the browser making this request, or None."""
    if "idp_session" not in g:
        secret = request.cookies.get(cookie_name())
        g.idp_session = load(sid_of(secret)) if secret else None
        if g.idp_session is not None and time.time() - g.idp_session.last_seen > LAST_SEEN_STEP:
            g.idp_session.last_seen = time.time()
            save(g.idp_session)
    return g.idp_session


def touch_client(session: IdpSession, client_id: str) -> None:
    if client_id not in session.clients:
        session.clients.append(client_id)
        save(session)


def update_session_context(sid: str, **data: Any) -> None:
    session = load(sid)
    if session:
        session.context.update(data)
        save(session)


def list_sessions(account_id: str) -> list[IdpSession]:
    redis = get_redis()
    sessions = []
    for sid in redis.smembers(_index(account_id)):
        session = load(sid)
        if session:
            sessions.append(session)
        else:
            redis.srem(_index(account_id), sid)
    return sorted(sessions, key=lambda s: s.created_at, reverse=True)


def end_session(sid: str) -> IdpSession | None:
    """End one session: forget it, revoke its refresh tokens, tell every client it touched."""
    from idp.oidc import logout  # the protocol side of ending a session

    session = load(sid)
    if session is None:
        return None
    redis = get_redis()
    redis.delete(_key(sid))
    redis.srem(_index(session.account_id), sid)
    logout.after_session_ended(session)
    return session


def own_session(account_id: str, sid: str) -> IdpSession | None:
    """One of this account's sessions by its id, or None: another person's id (every relying party
    they use knows it) names nothing here."""
    session = load(sid)
    return session if session is not None and session.account_id == account_id else None


def last_activity(session: IdpSession) -> float:
    return max(session.last_seen, session.created_at)


def end_all_sessions(account_id: str, keep_sid: str | None = None) -> int:
    """End every session of the account (but ``keep_sid``, the one making a password change)."""
    ended = [session for session in list_sessions(account_id) if session.sid != keep_sid]
    for session in ended:
        end_session(session.sid)
    return len(ended)


def cookie_name() -> str:
    """``__Host-idp_sid`` in production: only this host, over HTTPS, at ``Path=/`` (shared.cookies)."""
    return host_only(COOKIE, get_settings().production)


def set_cookie(response, session: IdpSession) -> None:
    """The cookie of a session just created (only then is its secret known)."""
    response.set_cookie(cookie_name(), session.cookie_secret, httponly=True, samesite="Lax", secure=get_settings().production,
                        max_age=_lifetime())


def clear_cookie(response) -> None:
    response.delete_cookie(cookie_name(), httponly=True, samesite="Lax", secure=get_settings().production)


def add_methods(session: IdpSession, *methods: str) -> None:
    """Record further authentication methods (a second factor) on an open session, and when they
    were proven (``context["second_factor_at"]``: pages that ask for a recent proof read it)."""
    for method in methods:
        if method not in session.amr:
            session.amr.append(method)
    session.context["second_factor_at"] = time.time()
    save(session)
