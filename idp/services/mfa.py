"""TOTP second factor (RFC 6238, pyotp): enrolment, verification without replay, recovery codes.

The secret is encrypted at rest (Fernet, key in ``keys/idp/totp.key``, outside the database);
recovery codes are random, shown once, and stored as SHA-256 digests; each works once.
"""

from __future__ import annotations

import hashlib
import io
import secrets
from datetime import datetime
from functools import cache
from pathlib import Path

import pyotp
import qrcode
import qrcode.image.svg
from cryptography.fernet import Fernet

from idp.services import audit, branding, factor_notices, throttle
from idp.storage.sql.lifecycle import SecondFactor
from idp.storage.sql.models import Account
from idp.storage.sql.passkeys import Passkey
from shared.appkit import get_db, get_redis, get_settings
from shared.files import create_private, private_dir

RECOVERY_CODES = 10
ENROLMENT_TTL = 900
THROTTLE_SCOPE = "totp"
# the amr values of a proven second factor: a TOTP code (or recovery code), a passkey (RFC 8176)
SECOND_FACTOR_METHODS = frozenset({"otp", "hwk", "swk"})


@cache
def _fernet(keys_path: str) -> Fernet:
    path = Path(keys_path) / "idp" / "totp.key"
    if not path.exists():
        private_dir(path.parent)
        create_private(path, Fernet.generate_key())  # 0600 from the start; a concurrent first start keeps one key
    return Fernet(path.read_bytes().strip())


def _cipher() -> Fernet:
    return _fernet(str(get_settings().keys_path))


def _digest(code: str) -> str:
    return hashlib.sha256(code.replace("-", "").replace(" ", "").lower().encode()).hexdigest()


def is_enabled(account_id: str) -> bool:
    """Whether the account has a TOTP application (its row may hold only the recovery codes of an
    account whose factors are passkeys: ``secret_encrypted`` is then empty)."""
    with get_db().session() as session:
        factor = session.get(SecondFactor, account_id)
        return factor is not None and bool(factor.secret_encrypted)


# -- enrolment ---------------------------------------------------------------------------------

class CurrentFactorRequired(Exception):
    """Replacing a second factor needs a session that proved the current one (a code or a recovery
    code), never the password alone: otherwise a stolen password takes over the factor."""


def has_second_factor(account_id: str) -> bool:
    """A TOTP application or at least one passkey: a password alone no longer signs in."""
    with get_db().session() as session:
        return is_enabled(account_id) or session.query(Passkey.id).filter(Passkey.account_id == account_id).first() is not None


def proved_second_factor(session_amr: list[str]) -> bool:
    return bool(SECOND_FACTOR_METHODS & set(session_amr or []))


def may_change_factor(account_id: str, session_amr: list[str]) -> bool:
    """Adding, replacing or removing a factor (TOTP, passkey) needs a session that proved one the
    account already has; an account with none may add its first after its password."""
    return proved_second_factor(session_amr) or not has_second_factor(account_id)


def start_enrolment(account_id: str, session_amr: list[str]) -> str:
    """A new secret, kept in Redis until the user proves their app computes the right codes."""
    if not may_change_factor(account_id, session_amr):
        raise CurrentFactorRequired()
    key = f"idp:totp-enrolment:{account_id}"
    secret = get_redis().get(key) or pyotp.random_base32()
    get_redis().set(key, secret, ex=ENROLMENT_TTL)
    return secret


def pending_secret(account_id: str) -> str | None:
    return get_redis().get(f"idp:totp-enrolment:{account_id}")


def provisioning_uri(secret: str, email: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=email, issuer_name=branding.neutral().account)  # the account page's name


def qr_svg(uri: str) -> bytes:
    image = qrcode.make(uri, image_factory=qrcode.image.svg.SvgPathImage, box_size=8, border=2)
    buffer = io.BytesIO()
    image.save(buffer)
    return buffer.getvalue()


def confirm_enrolment(account_id: str, code: str, session_amr: list[str], keep_sid: str | None = None) -> list[str] | None:
    """Enable the factor when the code matches; return the recovery codes (shown once). Every
    other session and its tokens end: they were obtained without the factor now required. The
    account's first factor also needs the mailbox proven in session ``keep_sid`` (mailbox_proof):
    a password alone never binds one."""
    if not may_change_factor(account_id, session_amr):
        raise CurrentFactorRequired()
    from idp.services import mailbox_proof

    mailbox_proof.demand(keep_sid, account_id, session_amr)  # before the code is spent on a refusal
    secret = pending_secret(account_id)
    if not secret or not _fresh_code(account_id, secret, code):
        return None
    get_redis().delete(f"idp:totp-enrolment:{account_id}")
    mailbox_proof.spend(keep_sid)
    return _enable(account_id, secret, keep_sid)


def enable_on_the_server(account_id: str, secret: str) -> list[str]:
    """Bind a TOTP secret from the server itself (the demo's seeded operator): whoever runs this
    holds the database and the keys already, so no browser proof applies. Never behind a route."""
    return _enable(account_id, secret, keep_sid=None)


def _enable(account_id: str, secret: str, keep_sid: str | None) -> list[str]:
    codes = [f"{secrets.token_hex(3)}-{secrets.token_hex(3)}" for _ in range(RECOVERY_CODES)]
    with get_db().session() as session:
        factor = session.get(SecondFactor, account_id) or SecondFactor(account_id=account_id)
        factor.secret_encrypted = _cipher().encrypt(secret.encode()).decode()
        factor.recovery_code_hashes = [_digest(c) for c in codes]
        session.merge(factor)
    from idp.services.lifecycle import revoke_everything

    revoke_everything(account_id, keep_sid=keep_sid)
    _notify(account_id, enabled=True)
    audit.record("second_factor_enabled", account_id)
    return codes


def regenerate_recovery_codes(account_id: str) -> list[str]:
    """New recovery codes (the old ones stop working); also the first ones of an account whose first
    factor is a passkey (its row then has no TOTP secret)."""
    codes = [f"{secrets.token_hex(3)}-{secrets.token_hex(3)}" for _ in range(RECOVERY_CODES)]
    with get_db().session() as session:
        factor = session.get(SecondFactor, account_id) or SecondFactor(account_id=account_id, secret_encrypted="")
        factor.recovery_code_hashes = [_digest(c) for c in codes]
        session.merge(factor)
    audit.record("recovery_codes_regenerated", account_id)
    return codes


def current_recovery_codes(account_id: str, shown: list[str]) -> list[str]:
    """Those of ``shown`` that are still this account's unused recovery codes (what a download or a
    print page may repeat: nothing else is echoed)."""
    with get_db().session() as session:
        factor = session.get(SecondFactor, account_id)
        held = set(factor.recovery_code_hashes or []) if factor else set()
    return [code for code in shown[:RECOVERY_CODES] if len(code) <= 20 and _digest(code) in held]


def forget_recovery_codes_without_factor(account_id: str) -> None:
    """Once the last factor is gone, its recovery codes go too (they would recover nothing)."""
    if not has_second_factor(account_id):
        with get_db().session() as session:
            factor = session.get(SecondFactor, account_id)
            if factor is not None:
                session.delete(factor)


def disable(account_id: str, session_amr: list[str], keep_sid: str | None = None) -> None:
    """Turn the TOTP application off. Every other session of the account ends and its tokens are
    revoked (``keep_sid`` excepted), as when a passkey is removed: whoever holds a copy of the
    secret may be what opened one of them."""
    from idp.services.lifecycle import revoke_everything

    if not may_change_factor(account_id, session_amr):
        raise CurrentFactorRequired()
    if not is_enabled(account_id):
        return  # nothing to turn off: no email, no session ended
    with get_db().session() as session:
        factor = session.get(SecondFactor, account_id)
        if factor is not None:
            factor.secret_encrypted = ""  # the TOTP application only: its recovery codes stay while passkeys remain
        withdraw_operator_without_factor(session, account_id)
    get_redis().delete(f"idp:totp-enrolment:{account_id}")
    forget_recovery_codes_without_factor(account_id)
    revoke_everything(account_id, keep_sid=keep_sid)
    _notify(account_id, enabled=False)
    audit.record("second_factor_disabled", account_id)


def remove(account_id: str) -> bool:
    """Forget every second factor of the account, its TOTP application, its passkeys and its
    recovery codes (the support desk's reset once the person lost them all; whoever may do so
    checked that first). True when there was one."""
    with get_db().session() as session:
        factor = session.get(SecondFactor, account_id)
        passkeys = session.query(Passkey).filter(Passkey.account_id == account_id).all()
        for row in [factor] * (factor is not None) + passkeys:
            session.delete(row)
        withdraw_operator_without_factor(session, account_id)
    get_redis().delete(f"idp:totp-enrolment:{account_id}")
    return factor is not None or bool(passkeys)


def withdraw_operator_without_factor(session, account_id: str) -> None:
    from idp.services.operators import withdraw_without_factor  # operators reads this module

    withdraw_without_factor(session, account_id)


def _notify(account_id: str, enabled: bool) -> None:
    from idp.services.lifecycle import _send

    with get_db().session() as session:
        _send(session, session.get(Account, account_id), "second_factor", enabled=enabled)


def remaining_recovery_codes(account_id: str) -> int:
    with get_db().session() as session:
        factor = session.get(SecondFactor, account_id)
        return len(factor.recovery_code_hashes or []) if factor else 0


# -- verification ------------------------------------------------------------------------------

def _fresh_code(account_id: str, secret: str, code: str) -> bool:
    """A code of the current time step (±1 for clock drift) never accepted before for this account."""
    code = code.replace(" ", "")
    if not (code.isdigit() and len(code) == 6):
        return False
    totp = pyotp.TOTP(secret)
    for drift in (0, -1, 1):
        moment = totp.timecode(datetime.now()) + drift
        if secrets.compare_digest(totp.generate_otp(moment), code):
            # one use per time step: a code seen over a shoulder or phished cannot be replayed
            return bool(get_redis().set(f"idp:totp-used:{account_id}:{moment}", "1", nx=True, ex=120))
    return False


class Throttled(Exception):
    def __init__(self, seconds: int):
        super().__init__(seconds)
        self.seconds = seconds


def throttle_subject(account_id: str, device_id: str | None) -> str:
    """The counter a second-factor attempt counts against: the account on a device where its second
    factor was proven before (``devices.second_factor_device``), else the account's one counter for
    every unknown browser. A thief who holds the password guesses at the unknown counter's pace, as
    slowly as ever, and never makes the owner wait on her own browser (OWASP "device cookies")."""
    return f"{account_id}:{device_id or 'unknown'}"


def verify(account_id: str, code: str, device_id: str | None = None) -> str | None:
    """Check a TOTP or a recovery code; returns "otp", "recovery" or None. Throttled per account
    and device (``throttle_subject``)."""
    subject = throttle_subject(account_id, device_id)
    wait = throttle.wait_seconds(THROTTLE_SCOPE, subject)
    if wait:
        raise Throttled(wait)
    with get_db().session() as session:
        factor = session.get(SecondFactor, account_id)
        if factor is None:
            return None
        secret = _cipher().decrypt(factor.secret_encrypted.encode()).decode() if factor.secret_encrypted else None
        if secret and _fresh_code(account_id, secret, code):
            throttle.success(THROTTLE_SCOPE, subject)
            return "otp"
        digest = _digest(code)
        if len(code.strip()) >= 12 and digest in (factor.recovery_code_hashes or []):
            factor.recovery_code_hashes = [h for h in factor.recovery_code_hashes if h != digest]
            used, left = "recovery", len(factor.recovery_code_hashes)
        else:
            used = None
    if used:
        throttle.success(THROTTLE_SCOPE, subject)
        audit.record("recovery_code_used", account_id)
        factor_notices.send(account_id, "recovery_code_used", left=left)  # someone else's use is seen at once
        return used
    throttle.failure(THROTTLE_SCOPE, subject)
    audit.record("second_factor_failed", account_id)
    return None

