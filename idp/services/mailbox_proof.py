"""Proof that the person in this browser reads the account's mailbox: a code emailed to its address.

An account without a second factor is guarded by its password alone. Its *first* factor (a TOTP
application, a passkey) would otherwise be bound by whoever holds that password: a thief who
bought it enrols their own authenticator, and from then on holds ``amr`` mfa and the account's
operators' console (outside review, S3). The mailbox is the second thing the thief lacks (the
address was verified when the account was opened), so binding a first factor, and moving the
account to another address, first asks for a code sent there.

The code is bound to the IdP session that asked for it (a code read in the mailbox works only in
the browser that asked, and only for that account), kept as a digest, used once, and tried at most
``MAX_TRIES`` times; a fresh code needs ``RESEND_AFTER`` seconds, a session gets at most
``SENDS_PER_HOUR`` and the account ``ACCOUNT_SENDS_PER_HOUR`` (a thief holding the password cannot
use up the owner's share from their own sessions), each one telling the owner what it is for. Once given, the proof lasts
``PROOF_TTL`` seconds and is spent by the change it allowed.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time

from idp.services import audit, mfa
from idp.storage.sql.models import Account
from shared.appkit import get_db, get_redis

CODE_TTL = 600
PROOF_TTL = 900
MAX_TRIES = 5
RESEND_AFTER = 60
SENDS_PER_HOUR = 5  # per session: the owner's browser has its own share…
ACCOUNT_SENDS_PER_HOUR = 20  # …and the account a larger one, so a password-holder's sessions flood no mailbox
PURPOSES = ("totp", "passkey", "email")  # what the code is for: the email says which


class ProofRequired(Exception):
    """The change needs the code sent to the account's address first (``required``)."""


class TooManyCodes(Exception):
    def __init__(self, seconds: int):
        super().__init__(seconds)
        self.seconds = seconds


def required(account_id: str, session_amr: list[str]) -> bool:
    """Whether a change to the account's factors or address needs the mailbox: only when the
    session proved no second factor and the account has none (otherwise that factor guards it)."""
    return not mfa.proved_second_factor(session_amr) and not mfa.has_second_factor(account_id)


def _code_key(sid: str) -> str:
    return f"idp:mailbox-code:{sid}"


def _proof_key(sid: str) -> str:
    return f"idp:mailbox-proven:{sid}"


def _digest(account_id: str, code: str) -> str:
    return hashlib.sha256(f"{account_id}:{code}".encode()).hexdigest()


def pending(sid: str, account_id: str) -> bool:
    """A code was sent to this session for this account and may still be given."""
    return get_redis().hget(_code_key(sid), "account") == account_id


def send(sid: str, account_id: str, purpose: str, again: bool = False) -> bool:
    """Email a new code unless one is pending (``again``: the person asks for another one).
    True when a code was sent now. Raises TooManyCodes when the account had its share."""
    redis = get_redis()
    held = redis.hgetall(_code_key(sid))
    if held.get("account") == account_id:
        if not again:
            return False
        wait = RESEND_AFTER - int(time.time() - float(held.get("sent_at", 0)))
        if wait > 0:
            raise TooManyCodes(wait)
    for sends_key, limit in ((f"idp:mailbox-sends:{sid}", SENDS_PER_HOUR),
                             (f"idp:mailbox-sends:account:{account_id}", ACCOUNT_SENDS_PER_HOUR)):
        sends = redis.incr(sends_key)
        if sends == 1:
            redis.expire(sends_key, 3600)
        if sends > limit:
            raise TooManyCodes(max(60, redis.ttl(sends_key)))
    code = f"{secrets.randbelow(10**8):08d}"
    with redis.pipeline() as pipe:
        pipe.delete(_code_key(sid))
        pipe.hset(_code_key(sid), mapping={"account": account_id, "digest": _digest(account_id, code),
                                           "tries": 0, "sent_at": time.time()})
        pipe.expire(_code_key(sid), CODE_TTL)
        pipe.execute()
    from idp.services.lifecycle import _send

    with get_db().session() as session:
        _send(session, session.get(Account, account_id), "mailbox_code", code=f"{code[:4]} {code[4:]}",
              purpose=purpose, minutes=CODE_TTL // 60)
    audit.record("mailbox_code_sent", account_id, purpose=purpose)
    return True


def confirm(sid: str, account_id: str, code: str) -> bool:
    """Check the code given in this session; on success the proof holds for PROOF_TTL seconds."""
    redis = get_redis()
    key = _code_key(sid)
    held = redis.hgetall(key)
    if held.get("account") != account_id:
        return False
    if redis.hincrby(key, "tries", 1) > MAX_TRIES:
        redis.delete(key)  # a guesser's code dies; the owner asks for another
        audit.record("mailbox_code_failed", account_id, exhausted=True)
        return False
    given = "".join((code or "").split())
    if not (given.isdigit() and len(given) == 8 and hmac.compare_digest(held.get("digest", ""), _digest(account_id, given))):
        audit.record("mailbox_code_failed", account_id)
        return False
    if not redis.delete(key):  # two requests with the same code: one wins
        return False
    redis.set(_proof_key(sid), account_id, ex=PROOF_TTL)
    audit.record("mailbox_proven", account_id)
    return True


def proven(sid: str | None, account_id: str) -> bool:
    return bool(sid) and get_redis().get(_proof_key(sid)) == account_id


def outstanding(session) -> bool:
    """Whether this IdP session must still give the code before such a change (pages ask it first)."""
    return required(session.account_id, session.amr) and not proven(session.sid, session.account_id)


def demand(sid: str | None, account_id: str, session_amr: list[str]) -> None:
    """What a service checks before binding a first factor or moving the account's address."""
    if required(account_id, session_amr) and not proven(sid, account_id):
        raise ProofRequired()


def spend(sid: str | None) -> None:
    """The change the proof allowed is made: the next one asks again."""
    if sid:
        get_redis().delete(_proof_key(sid))
