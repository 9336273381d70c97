"""Portal sessions, kept server-side in Redis so the IdP can end them (back-channel logout).

The browser's cookie holds only an opaque portal-session id. Each portal session remembers the
IdP session id (``sid``) it came from and the ``sub``, indexed both ways, so a logout token naming
either ends every matching session. Sessions are re-checked at the IdP (``prompt=none``) after
``RP_SESSION_RECHECK`` seconds, so a logout the portal missed stops working within that window.
"""

from __future__ import annotations

import json
import os
import secrets
import time
from dataclasses import dataclass, field
from typing import Any

from redis import Redis

SESSION_TTL = int(os.environ.get("RP_SESSION_TTL", 8 * 3600))
RECHECK_AFTER = int(os.environ.get("RP_SESSION_RECHECK", 300))


@dataclass
class Principal:
    """Who is signed in at this portal, from verified ID-token and userinfo claims."""

    session_id: str
    sub: str
    claims: dict[str, Any]
    sid: str | None = None
    id_token: str | None = None
    access_token: str | None = None
    created_at: float = field(default_factory=time.time)
    checked_at: float = field(default_factory=time.time)

    @property
    def needs_recheck(self) -> bool:
        return time.time() - self.checked_at > RECHECK_AFTER

    @property
    def expired_check(self) -> bool:
        """Too long without a check for any request, even a POST."""
        return time.time() - self.checked_at > 2 * RECHECK_AFTER

    @property
    def email(self) -> str | None:
        return self.claims.get("email")

    @property
    def display_name(self) -> str:
        given, family = self.claims.get("given_name"), self.claims.get("family_name")
        if given or family:
            return " ".join(part for part in (given, family) if part)
        return self.claims.get("preferred_username") or self.claims.get("email") or self.sub


class SessionStore:
    def __init__(self, redis: Redis, namespace: str):
        self.redis = redis
        self.ns = f"rp:{namespace}"

    def _key(self, session_id: str) -> str:
        return f"{self.ns}:s:{session_id}"

    def create(self, sub: str, claims: dict[str, Any], sid: str | None, id_token: str | None,
               access_token: str | None) -> Principal:
        principal = Principal(secrets.token_urlsafe(32), sub, claims, sid, id_token, access_token)
        self.save(principal)
        pipe = self.redis.pipeline()
        for index in self._indexes(principal):
            pipe.sadd(index, principal.session_id)
            pipe.expire(index, SESSION_TTL)
        pipe.execute()
        return principal

    def _indexes(self, principal: Principal) -> list[str]:
        indexes = [f"{self.ns}:sub:{principal.sub}"]
        if principal.sid:
            indexes.append(f"{self.ns}:sid:{principal.sid}")
        return indexes

    def save(self, principal: Principal) -> None:
        self.redis.set(self._key(principal.session_id), json.dumps(principal.__dict__), ex=SESSION_TTL)

    def load(self, session_id: str | None) -> Principal | None:
        if not session_id:
            return None
        raw = self.redis.get(self._key(session_id))
        return Principal(**json.loads(raw)) if raw else None

    def delete(self, session_id: str) -> None:
        principal = self.load(session_id)
        pipe = self.redis.pipeline()
        pipe.delete(self._key(session_id))
        if principal:
            for index in self._indexes(principal):
                pipe.srem(index, session_id)
        pipe.execute()

    def end_matching(self, sid: str | None, sub: str | None) -> int:
        """End every session of this IdP session (``sid``), or of this subject when no sid is given."""
        index = f"{self.ns}:sid:{sid}" if sid else f"{self.ns}:sub:{sub}"
        session_ids = self.redis.smembers(index)
        for session_id in session_ids:
            principal = self.load(session_id)
            if principal and sub and principal.sub != sub:
                continue
            self.delete(session_id)
        self.redis.delete(index) if sid else None
        return len(session_ids)

    def remember_once(self, key: str, ttl: int) -> bool:
        """True the first time ``key`` is seen within ``ttl`` (replay guard for logout-token jti)."""
        return bool(self.redis.set(f"{self.ns}:once:{key}", "1", nx=True, ex=ttl))
