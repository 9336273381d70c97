"""Adding a case: identification number → SMS code to the phone the court holds → attached.

States, as the person sees them::

    number ──send_code──► code pending ──confirm_code (right code)──► attached
      ▲                    │   │  wrong code (attempts left): stays pending, says how many are left
      │                    │   └─ five wrong codes, expiry (10 min) or used: back to number
      └── refused: unknown number, too many look-ups, too many SMS

The pending code is remembered per person (not only in the form), so a page reloaded after the
session was renewed still shows the code field, and asking for a new code too soon keeps it.

Abuse bounds, each kept in Redis with a single atomic command (or one MULTI transaction), so
several workers never let more through than the bound:

- wrong codes: ``HINCRBY`` on the code's own record counts the attempt *before* the comparison;
  the sixth concurrent guess finds the counter past five whatever the interleaving;
- number look-ups: per person and per number, per hour (known and unknown numbers alike, so
  neither guessing numbers nor hammering one works);
- SMS: one per party every 60 seconds, and a daily bound per party, so nobody can make the court's
  system text a party all day.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass

from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session

from portals.justice.models import Attachment, OutboxMessage, Party
from portals.justice.services import Refused, masked_phone, number_hash, party_for_number, visible
from shared.appkit import get_redis
from shared.outbox import queue_sms

CODE_TTL = 600               # an SMS code is valid 10 minutes
CODE_ATTEMPTS = 5            # wrong codes before a new one is needed
RESEND_AFTER = 60            # seconds between two SMS for one party
LOOKUPS_PER_PERSON = (10, 3600)   # number look-ups by one person, per hour
LOOKUPS_PER_NUMBER = (5, 3600)    # look-ups of one number, whoever asks, per hour
SMS_PER_PARTY = (5, 86400)        # codes texted to one party, per day


@dataclass
class Pending:
    challenge: str
    masked: str
    reference: str
    party: str
    resend_in: int   # seconds before a new code may be asked (0: now)


def _hit(key: str, window: int) -> tuple[int, int]:
    """Count one hit in a fixed window; returns (hits so far, seconds left). One MULTI transaction."""
    pipe = get_redis().pipeline(transaction=True)
    pipe.set(key, 0, ex=window, nx=True)
    pipe.incr(key)
    pipe.ttl(key)
    _created, hits, ttl = pipe.execute()
    return hits, max(1, ttl)


def _bounded(key: str, bound: tuple[int, int], refusal: str) -> None:
    limit, window = bound
    hits, left = _hit(key, window)
    if hits > limit:
        raise Refused(refusal, minutes=-(-left // 60))


def _code_key(challenge: str) -> str:
    return f"justice:sms-code:{challenge}"


def _pending_key(sub: str) -> str:
    return f"justice:sms-pending:{sub}"


def _digest(code: str) -> str:
    return hashlib.sha256(code.strip().encode()).hexdigest()


def send_code(session: Session, sub: str, number: str, locale: str = "fr") -> Pending:
    """Text a 6-digit code to the phone the court holds for the number's party."""
    _bounded(f"justice:lookups:person:{sub}", LOOKUPS_PER_PERSON, "too_many_lookups")
    _bounded(f"justice:lookups:number:{number_hash(number)}", LOOKUPS_PER_NUMBER, "too_many_lookups")
    return _text_code(session, sub, party_for_number(session, number), locale)


def resend_code(session: Session, sub: str, locale: str = "fr") -> Pending:
    """A new code for the party of the person's pending code ("Recevoir un nouveau code")."""
    pending = pending_of(sub)
    party = session.get(Party, pending.party) if pending else None
    if party is None or party.consent_at is None or party.access_cut or not visible(party.case):
        raise Refused("code_expired")
    return _text_code(session, sub, party, locale)


def _text_code(session: Session, sub: str, party: Party, locale: str) -> Pending:
    redis = get_redis()
    if not redis.set(f"justice:sms-sent:{party.id}", "1", nx=True, ex=RESEND_AFTER):
        raise Refused("resend_too_soon", seconds=max(1, redis.ttl(f"justice:sms-sent:{party.id}")))
    _bounded(f"justice:sms-day:{party.id}", SMS_PER_PARTY, "too_many_sms")
    code = f"{secrets.randbelow(1_000_000):06d}"
    challenge = secrets.token_urlsafe(16)
    masked = masked_phone(party.mobile)
    previous = pending_of(sub)
    pipe = redis.pipeline(transaction=True)
    if previous is not None:  # one code at a time: the new one replaces the last
        pipe.delete(_code_key(previous.challenge))
    pipe.hset(_code_key(challenge), mapping={"sub": sub, "party": party.id, "code": _digest(code), "attempts": 0})
    pipe.expire(_code_key(challenge), CODE_TTL)
    pipe.set(_pending_key(sub), json.dumps({"challenge": challenge, "masked": masked, "party": party.id,
                                             "reference": party.case.reference}), ex=CODE_TTL)
    pipe.execute()
    with force_locale(locale):
        text = _("justice.fr : votre code pour ajouter le dossier %(reference)s est %(code)s. Il expire dans "
                 "10 minutes.", reference=party.case.reference, code=code)
    queue_sms(session, OutboxMessage, to=party.mobile, text=text, locale=locale)
    return Pending(challenge, masked, party.case.reference, party.id, RESEND_AFTER)


def pending_of(sub: str) -> Pending | None:
    """The person's code still waiting to be typed, if any (survives a session renewal)."""
    redis = get_redis()
    raw = redis.get(_pending_key(sub))
    if not raw:
        return None
    data = json.loads(raw)
    if not redis.exists(_code_key(data["challenge"])):
        redis.delete(_pending_key(sub))
        return None
    resend_in = max(0, redis.ttl(f"justice:sms-sent:{data['party']}"))
    return Pending(data["challenge"], data["masked"], data["reference"], data["party"], resend_in)


def abandon(sub: str) -> None:
    get_redis().delete(_pending_key(sub))


def confirm_code(session: Session, sub: str, challenge: str, code: str) -> Attachment:
    redis = get_redis()
    key = _code_key(challenge)
    pipe = redis.pipeline(transaction=True)
    pipe.hincrby(key, "attempts", 1)   # counted before the comparison, atomically
    pipe.hgetall(key)
    attempts, data = pipe.execute()
    if "code" not in data:             # expired or used: the increment made an empty record
        redis.delete(key)
        raise Refused("code_expired")
    if data["sub"] != sub:
        raise Refused("code_expired")
    if attempts > CODE_ATTEMPTS:
        redis.delete(key)
        abandon(sub)
        raise Refused("too_many_attempts")
    if not hmac.compare_digest(data["code"], _digest(code)):
        if attempts >= CODE_ATTEMPTS:
            redis.delete(key)
            abandon(sub)
            raise Refused("too_many_attempts")
        raise Refused("wrong_code", left=CODE_ATTEMPTS - attempts)
    if not redis.delete(key):          # single use, even under two simultaneous submissions
        raise Refused("code_expired")
    abandon(sub)
    return attach(session, sub, data["party"])


def attach(session: Session, sub: str, party_id: str) -> Attachment:
    """The person's view through this party; a detached one comes back with its alert choices."""
    attachment = session.scalar(select(Attachment).where(Attachment.sub == sub, Attachment.party_id == party_id))
    if attachment is None:
        attachment = Attachment(sub=sub, party_id=party_id)
        session.add(attachment)
    attachment.detached_at = None
    session.flush()
    return attachment
