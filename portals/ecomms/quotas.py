"""Upload quotas: how much of the Court's disk one person, and one application, may take.

Two stocks, each bounded in files and bytes, per person and per application:

- **staged**: files uploaded one by one by the JavaScript form, waiting for "Envoyer". A place is
  reserved before the bytes arrive (from the declared length), adjusted to the real size, and
  given back when the file is sent, removed or expired. Expired staged files are deleted by
  ``sweep_expired`` (every minute), not left for the hourly clean-up. The registry's own staged
  files count for its staff member but not against the application, so that an applicant cannot
  keep the Court from sending.
- **sent**: documents deposited to the Court over the last 24 hours (the rows themselves, so the
  count survives restarts); the registry's sendings are not limited.

Redis keys: ``ecomms:staged:sub:<sub>`` and ``ecomms:staged:app:<id>`` (hashes: upload id →
"size expiry"), ``ecomms:staged:expiry`` (sorted set of upload ids by expiry time) and
``ecomms:staged:owners`` (hash: upload id → "sub|application|temp name"). Reservations are optimistic transactions (WATCH), so two uploads at once cannot
both take the last place.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from redis import Redis
from redis.exceptions import WatchError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from portals.ecomms.models import Document
from shared.timeutil import utcnow

MB = 1024 * 1024
EXPIRY_SET = "ecomms:staged:expiry"
OWNERS = "ecomms:staged:owners"


@dataclass(frozen=True)
class Quotas:
    staged_files: int = 20
    staged_mb: int = 500
    daily_files: int = 100
    daily_mb: int = 1024

    @classmethod
    def from_settings(cls, section: dict) -> Quotas:
        """``[uploads]`` of config/ecomms.toml: staged_files, staged_mb, daily_files, daily_mb."""
        default = cls()
        return cls(**{name: int(section.get(name, getattr(default, name)))
                      for name in ("staged_files", "staged_mb", "daily_files", "daily_mb")})


class QuotaReached(Exception):
    """``code`` names the quota (``staged`` or ``daily``); ``limit_files``, ``limit_mb`` its bounds."""

    def __init__(self, code: str, limit_files: int, limit_mb: int):
        super().__init__(code)
        self.code, self.limit_files, self.limit_mb = code, limit_files, limit_mb


def _person_key(sub: str) -> str:
    return f"ecomms:staged:sub:{sub}"


def _application_key(application_id: str) -> str:
    return f"ecomms:staged:app:{application_id}"


def _live(entries: dict[str, str], now: float) -> dict[str, int]:
    live = {}
    for upload_id, value in entries.items():
        size, expiry = value.split()
        if float(expiry) > now:
            live[upload_id] = int(size)
    return live


def reserve_staged(redis: Redis, quotas: Quotas, sub: str, application_id: str | None, upload_id: str,
                   size: int, temp_name: str, ttl: int) -> None:
    """Take a place for one staged file of (at most) ``size`` bytes, or raise QuotaReached.
    ``application_id`` is None for the registry (its files do not count against the application)."""
    now = time.time()
    keys = [_person_key(sub)] + ([_application_key(application_id)] if application_id else [])
    with redis.pipeline() as pipe:
        while True:
            try:
                pipe.watch(*keys)
                for key in keys:
                    live = _live(pipe.hgetall(key), now)
                    if len(live) + 1 > quotas.staged_files or sum(live.values()) + size > quotas.staged_mb * MB:
                        raise QuotaReached("staged", quotas.staged_files, quotas.staged_mb)
                pipe.multi()
                for key in keys:
                    pipe.hset(key, upload_id, f"{size} {now + ttl}")
                    pipe.expire(key, ttl + 60)
                pipe.zadd(EXPIRY_SET, {upload_id: now + ttl})
                pipe.hset(OWNERS, upload_id, f"{sub}|{application_id or ''}|{temp_name}")
                pipe.execute()
                return
            except WatchError:
                continue


def settle_staged(redis: Redis, sub: str, application_id: str | None, upload_id: str, size: int, ttl: int) -> None:
    """The file arrived: its place shrinks to its real size."""
    value = f"{size} {time.time() + ttl}"
    redis.hset(_person_key(sub), upload_id, value)
    if application_id:
        redis.hset(_application_key(application_id), upload_id, value)


def release_staged(redis: Redis, sub: str, application_id: str | None, upload_id: str) -> None:
    """Sent, removed or refused: the place is free again (the caller deals with the file)."""
    redis.hdel(_person_key(sub), upload_id)
    if application_id:
        redis.hdel(_application_key(application_id), upload_id)
    redis.zrem(EXPIRY_SET, upload_id)
    redis.hdel(OWNERS, upload_id)


def sweep_expired(redis: Redis, folder: Path, now: float | None = None) -> list[str]:
    """Delete the staged files whose time is up, and give their places back."""
    now = time.time() if now is None else now
    removed = []
    for upload_id in redis.zrangebyscore(EXPIRY_SET, 0, now):
        owner = redis.hget(OWNERS, upload_id)
        if owner:
            sub, application_id, temp_name = owner.split("|")
            if temp_name.startswith(".upload-") and temp_name[len(".upload-"):].isalnum():
                (folder / temp_name).unlink(missing_ok=True)
            release_staged(redis, sub, application_id or None, upload_id)
        redis.zrem(EXPIRY_SET, upload_id)
        removed.append(upload_id)
    return removed


def check_sent(session: Session, quotas: Quotas, sub: str, application_id: str, sizes: list[int]) -> None:
    """Would these files take the person or the application past its documents of the last 24 hours?"""
    since = utcnow() - timedelta(days=1)
    recent = select(func.count(Document.id), func.coalesce(func.sum(Document.size), 0)).where(
        Document.direction == "to_court", Document.created_at >= since)
    for condition in (Document.sender_sub == sub, Document.application_id == application_id):
        count, total = session.execute(recent.where(condition)).one()
        if count + len(sizes) > quotas.daily_files or total + sum(sizes) > quotas.daily_mb * MB:
            raise QuotaReached("daily", quotas.daily_files, quotas.daily_mb)
