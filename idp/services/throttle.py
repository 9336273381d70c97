"""Brute-force throttling in Redis: growing delays per key, never a permanent lock-out.

After ``free`` failures within the window, each further attempt must wait
2^(failures - free) seconds (capped at ``max_delay``). Counters expire on their own,
so an attacker can slow an account down but never lock its owner out for good.

Sign-in (``sign_in_*``) counts a wrong password against the account *and the client*, never the
account alone, so a stranger's guesses do not hold back its owner:
- from a known device of the account (``idp.services.devices``): that device's own counter only —
  the owner's browser is let through whatever happens elsewhere;
- from any other browser: the counter of the account and that client's network address, plus one
  counter of the account for every unknown device together, which starts only after
  ``UNTRUSTED_FREE`` failures and is capped at ``UNTRUSTED_MAX_DELAY``: it bounds guessing spread
  over many addresses, at the price of short waits for a new browser while an attack runs (the
  owner's known browser, or a reset link — which makes its browser known — get her in).
An unknown identifier is counted the same way (no enumeration through the throttle). Limits per
address across identifiers are Flask-Limiter's (``idp.web.limits``).
"""

from __future__ import annotations

import time

from shared.appkit import get_redis

FREE_ATTEMPTS = 5
MAX_DELAY = 300
WINDOW = 3600
SCOPE = "password"
UNTRUSTED_SCOPE = "password-untrusted"
UNTRUSTED_FREE = 50
UNTRUSTED_MAX_DELAY = 60


def _key(scope: str, subject: str) -> str:
    return f"idp:throttle:{scope}:{subject.lower()}"


def wait_seconds(scope: str, *subjects: str, free: int = FREE_ATTEMPTS, max_delay: int = MAX_DELAY) -> int:
    """Seconds to wait before another attempt is allowed for any of the subjects (0 = go)."""
    return _wait([(_key(scope, subject), free, max_delay) for subject in subjects])


def _wait(counters: list[tuple[str, int, int]]) -> int:
    """The longest wait that any of the (key, free attempts, max delay) counters imposes, read now,
    all in one round trip to Redis."""
    pipe = get_redis().pipeline(transaction=False)
    for key, _free, _max_delay in counters:
        pipe.hgetall(key)
    wait = 0
    for (_key_name, free, max_delay), raw in zip(counters, pipe.execute(), strict=True):
        failures = int(raw.get("failures", 0))
        if failures < free:
            continue
        delay = min(max_delay, 2 ** (failures - free))
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


# ---------------------------------------------------------------------------------------------
# Sign-in: account × (known device | address), and unknown devices together

def _client(account_key: str, device_id: str | None, address: str) -> str:
    return f"{account_key}:device:{device_id}" if device_id else f"{account_key}:ip:{address}"


def sign_in_wait(account_key: str, device_id: str | None, address: str) -> int:
    """Seconds before this client may try a password for this account (0 = go). ``account_key``
    is the account id, or the identifier typed when there is no such account."""
    counters = [(_key(SCOPE, _client(account_key, device_id, address)), FREE_ATTEMPTS, MAX_DELAY)]
    if device_id is None:
        counters.append((_key(UNTRUSTED_SCOPE, account_key), UNTRUSTED_FREE, UNTRUSTED_MAX_DELAY))
    return _wait(counters)


def sign_in_failed(account_key: str, device_id: str | None, address: str) -> None:
    failure(SCOPE, _client(account_key, device_id, address))
    if device_id is None:
        failure(UNTRUSTED_SCOPE, account_key)


def sign_in_succeeded(account_key: str, device_id: str | None, address: str) -> None:
    """The right password: this client's counter starts again (the others' do not)."""
    success(SCOPE, _client(account_key, device_id, address))
