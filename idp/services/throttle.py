"""Brute-force throttling in Redis: growing delays per key, never a permanent lock-out.

After ``FREE_ATTEMPTS`` failures within the window, each further attempt must wait
2^(failures - FREE_ATTEMPTS) seconds (capped at ``MAX_DELAY``). Counters expire on their own,
so an attacker can slow an account down but never lock its owner out for good.
"""

from __future__ import annotations

import time

from shared.appkit import get_redis

FREE_ATTEMPTS = 5
MAX_DELAY = 300
WINDOW = 3600


def _key(scope: str, subject: str) -> str:
    return f"idp:throttle:{scope}:{subject.lower()}"


def wait_seconds(scope: str, *subjects: str, free: int = FREE_ATTEMPTS) -> int:
    """Seconds to wait before another attempt is allowed for any of the subjects (0 = go)."""
    redis = get_redis()
    wait = 0
    for subject in subjects:
        raw = redis.hgetall(_key(scope, subject))
        failures = int(raw.get("failures", 0))
        if failures < free:
            continue
        delay = min(MAX_DELAY, 2 ** (failures - free))
        remaining = float(raw.get("last", 0)) + delay - time.time()
        wait = max(wait, int(remaining) + 1 if remaining > 0 else 0)
    return wait


def failure(scope: str, *subjects: str) -> None:
    redis = get_redis()
    pipe = redis.pipeline()
    for subject in subjects:
        key = _key(scope, subject)
        pipe.hincrby(key, "failures", 1)
        pipe.hset(key, "last", time.time())
        pipe.expire(key, WINDOW)
    pipe.execute()


def success(scope: str, *subjects: str) -> None:
    get_redis().delete(*[_key(scope, s) for s in subjects])
