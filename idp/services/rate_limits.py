"""Request-rate limits (how many of something per period), on the ``limits`` library — the one
Flask-Limiter runs on — in the app's own Redis (or its in-process fakeredis stand-in), so that
every instance counts together and nothing of it lives in process memory.

Two users: ``idp.web.limits`` gives Flask-Limiter the same storage for its per-route,
per-address limits, and services call ``hit`` for limits keyed on something else than the
requester (a recovery per target address). The account-level sign-in delays (growing, per
identifier and device or address) are not a rate and stay in ``idp.services.throttle``.

Keys start with ``idp:throttle:limits`` (one prefix for every counter of the IdP's throttling).
Limits are written as ``limits`` parses them: ``"3 per hour"``, ``"30/minute; 300/hour"``.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

from flask import Flask, current_app
from limits import parse_many
from limits.storage import RedisStorage
from limits.strategies import MovingWindowRateLimiter

KEY_PREFIX = "idp:throttle:limits"
STRATEGY = "moving-window"  # no burst at a window's edge: a period is always the last N seconds


@dataclass(frozen=True)
class StorageSpec:
    """What Flask-Limiter and ``limits`` need to reach the app's Redis."""

    uri: str
    options: dict


def storage_spec(app: Flask) -> StorageSpec:
    """The app's Redis: its URL, or the connection pool of its in-process fakeredis server (a client
    without decode_responses, as the ``limits`` scripts expect bytes)."""
    url = app.config["SETTINGS"].redis_url
    if url:
        return StorageSpec(url, {"key_prefix": KEY_PREFIX})
    import fakeredis

    server = app.extensions["redis"].connection_pool.connection_kwargs["server"]
    raw = fakeredis.FakeRedis(server=server)
    return StorageSpec("redis://in-process", {"key_prefix": KEY_PREFIX, "connection_pool": raw.connection_pool})


def _limiter() -> MovingWindowRateLimiter:
    app = current_app._get_current_object()
    limiter = app.extensions.get("idp_rate_limits")
    if limiter is None:
        spec = storage_spec(app)
        limiter = app.extensions["idp_rate_limits"] = MovingWindowRateLimiter(RedisStorage(spec.uri, **spec.options))
    return limiter


def configured(name: str, default: str) -> str:
    """A limit from config/idp.toml ``[throttle]``, or its default."""
    return str(current_app.config["SETTINGS"].section("throttle").get(name, default))


def hit(limit: str, scope: str, key: str) -> int:
    """Count one event of ``scope`` for ``key`` against every period of ``limit``; 0 when allowed,
    else the seconds until the oldest counted event leaves the period (nothing counted then)."""
    limiter = _limiter()
    items = parse_many(limit)
    for item in items:
        if not limiter.test(item, scope, key):
            reset_at = limiter.get_window_stats(item, scope, key).reset_time
            return max(1, math.ceil(reset_at - time.time()))
    for item in items:
        limiter.hit(item, scope, key)
    return 0


def clear(scope: str, key: str, limit: str) -> None:
    limiter = _limiter()
    for item in parse_many(limit):
        limiter.clear(item, scope, key)
