"""Back-channel logout from an upstream provider (OIDC Back-Channel Logout 1.0, the IdP as its RP).

When a person's session ends at an upstream provider, the provider POSTs a logout token to
``/federation/<provider>/backchannel-logout``. In the order it happens:

1. the token is validated by the provider's plug-in (signature against the provider's JWKS,
   ``iss``, ``aud``, ``iat``/``exp``, the logout event, ``sub`` and/or ``sid``, ``jti``, no
   ``nonce``: :meth:`idp.upstream.oidc.OIDCUpstream.validate_logout_token`);
2. its ``jti`` is spent (Redis ``SET NX`` for longer than the token is accepted): a replayed token
   is refused, whoever replays it;
3. the IdP sessions that came through this provider for that upstream ``sid`` (or, without a
   ``sid``, for that ``sub``) are found — the account through the (provider, ``sub``) link, or
   through the ``sid`` index written at sign-in (:func:`remember`) — and each is ended by
   :func:`idp.services.sessions.end_session`, which revokes its tokens and sends our own
   back-channel logout to every client the session touched.

Nothing here trusts the request beyond the signed token: no cookie, no browser.
"""

from __future__ import annotations

import hashlib
import logging
import time
from dataclasses import dataclass
from typing import Any

from redis import Redis

from idp.storage.sql.federation import IdentityStore
from idp.upstream.base import Upstream, UpstreamError
from idp.upstream.oidc import LEEWAY, LOGOUT_TOKEN_MAX_AGE
from shared.storage import Database

log = logging.getLogger(__name__)
SID_PREFIX = "idp:federation:upstream-sid:"
JTI_PREFIX = "idp:federation:logout-jti:"
SESSION_KEY = "upstream"  # where the IdP session's context keeps its upstream (provider, sub, sid, ...)


class LogoutRefused(Exception):
    """The logout token cannot be acted on; ``code`` is stable (tests, audit)."""

    def __init__(self, code: str, detail: str = ""):
        super().__init__(f"{code}: {detail}" if detail else code)
        self.code, self.detail = code, detail


@dataclass(frozen=True)
class LoggedOut:
    provider: str
    account_id: str | None
    ended: list[str]  # the IdP session ids ended


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def remember(redis: Redis, provider: str, upstream_sid: str | None, account_id: str, ttl: int) -> None:
    """At sign-in: which account an upstream ``sid`` belongs to, for logout tokens that name only it."""
    if upstream_sid:
        redis.set(f"{SID_PREFIX}{provider}:{_digest(upstream_sid)}", account_id, ex=max(1, ttl))


def _spend_jti(redis: Redis, provider: str, claims: dict[str, Any]) -> None:
    now = time.time()
    keep = int(max(LOGOUT_TOKEN_MAX_AGE, float(claims.get("exp") or 0) - now) + 2 * LEEWAY)
    if not redis.set(f"{JTI_PREFIX}{provider}:{_digest(claims['jti'])}", "1", nx=True, ex=keep):
        raise LogoutRefused("replayed", "jti already used")


def _matches(session, provider: str, sub: str | None, sid: str | None) -> bool:
    info = (session.context or {}).get(SESSION_KEY)
    if not isinstance(info, dict) or info.get("provider") != provider:
        return False
    if sid is not None:
        return info.get("sid") == sid and (sub is None or info.get("sub") == sub)
    return info.get("sub") == sub


def receive(redis: Redis, db: Database, upstream: Upstream, token: str, sessions) -> LoggedOut:
    """Validate ``token``, spend it, end the matching IdP sessions (``sessions``: the session service)."""
    validate = getattr(upstream, "validate_logout_token", None)
    if validate is None:
        raise LogoutRefused("unsupported", "this provider has no back-channel logout")
    try:
        claims = validate(token)
    except UpstreamError as error:
        raise LogoutRefused(error.code, error.detail) from error
    _spend_jti(redis, upstream.key, claims)
    sub, sid = claims.get("sub"), claims.get("sid")
    account_id = None
    if sub is not None:
        with db.session() as session:
            link = IdentityStore(session).find_link(upstream.key, sub)
            account_id = link.account_id if link else None
    elif sid is not None:
        account_id = redis.get(f"{SID_PREFIX}{upstream.key}:{_digest(sid)}")
    ended: list[str] = []
    if account_id:
        for session in sessions.list_sessions(account_id):
            if _matches(session, upstream.key, sub, sid) and sessions.end_session(session.sid):
                ended.append(session.sid)
    log.info("upstream back-channel logout: provider=%s sessions ended=%d", upstream.key, len(ended))
    return LoggedOut(upstream.key, account_id, ended)
