"""Who may use the operators' console, and whether this session may use it now.

An operator is an active account with the ``operator`` role (granted and revoked by the CLI,
``idp operators grant|revoke EMAIL``, each audited) and a second factor. The role is granted only
to an account that already has one (outside review S3: otherwise a thief holding the password
enrols the first factor and opens the console), and withdrawn in the same transaction that removes
the account's last factor, whoever removes it. A session reaches the
console only when it proved that factor (a TOTP code or a passkey) recently: within ``[operations] second_factor_minutes``
(config/idp.toml), read from the time ``sessions.add_methods`` records. A stolen password alone
therefore opens nothing, and an unattended signed-in browser closes itself after a few minutes.
"""

from __future__ import annotations

import time
from enum import Enum

from sqlalchemy import select
from sqlalchemy.orm import Session

from idp.services import audit, mfa
from idp.services.accounts import normalise_email
from idp.storage.sql.lifecycle import SecondFactor
from idp.storage.sql.models import Account
from idp.storage.sql.passkeys import Passkey
from shared.appkit import get_db, get_settings

ROLE = "operator"


class Access(str, Enum):
    """What the console answers a session, in the order it is checked."""

    SIGN_IN = "sign_in"  # no session, or one whose account is gone or inactive
    NOT_OPERATOR = "not_operator"
    NO_SECOND_FACTOR = "no_second_factor"  # an operator without TOTP or passkey (an old grant): enrol first
    PROVE_SECOND_FACTOR = "prove_second_factor"  # none proven in this session, or too long ago
    GRANTED = "granted"


def proof_window_seconds() -> int:
    return int(get_settings().section("operations").get("second_factor_minutes", 15)) * 60


def access(session, account: Account | None, now: float | None = None) -> Access:
    if session is None or account is None or account.status != "active":
        return Access.SIGN_IN
    if ROLE not in (account.roles or []):
        return Access.NOT_OPERATOR
    if not mfa.has_second_factor(account.id):
        return Access.NO_SECOND_FACTOR
    # a passkey (amr hwk/swk) counts as the TOTP code does: it is the stronger of the two
    proven_at = session.context.get("second_factor_at") if mfa.proved_second_factor(session.amr) else None
    now = time.time() if now is None else now
    if not isinstance(proven_at, int | float) or now - proven_at > proof_window_seconds():
        return Access.PROVE_SECOND_FACTOR
    return Access.GRANTED


class UnknownAccount(LookupError):
    pass


class NoSecondFactor(ValueError):
    """The account has neither a TOTP application nor a passkey: it enrols one at /account first."""


def _has_factor_within(session: Session, account_id: str) -> bool:
    """``mfa.has_second_factor``, read in the caller's transaction (so it sees the removal it is making)."""
    session.flush()
    factor = session.get(SecondFactor, account_id)
    if factor is not None and factor.secret_encrypted:
        return True
    return session.scalar(select(Passkey.id).where(Passkey.account_id == account_id).limit(1)) is not None


def withdraw_without_factor(session: Session, account_id: str) -> bool:
    """Called by whatever removes a factor, in its transaction: an operator left without a factor
    loses the role at once (audited ``operator_revoked``, by ``factor_removed``). True when it did."""
    account = session.get(Account, account_id)
    if account is None or ROLE not in (account.roles or []) or _has_factor_within(session, account_id):
        return False
    account.roles = [role for role in account.roles if role != ROLE]
    audit.record("operator_revoked", account_id, within=session, by="factor_removed")
    return True


def _set_role(email: str, present: bool, by: str) -> Account:
    with get_db().session() as session:
        account = session.scalar(select(Account).where(Account.email == normalise_email(email)))
        if account is None:
            raise UnknownAccount(email)
        if present and not _has_factor_within(session, account.id):
            raise NoSecondFactor(email)
        roles = [role for role in (account.roles or []) if role != ROLE]
        account.roles = [*roles, ROLE] if present else roles
        audit.record("operator_granted" if present else "operator_revoked", account.id, within=session, by=by)
    return account


def grant(email: str, by: str = "cli") -> Account:
    """Refused (``NoSecondFactor``) for an account without a second factor."""
    return _set_role(email, True, by)


def revoke(email: str, by: str = "cli") -> Account:
    """The role goes at once: the console checks it on every request."""
    return _set_role(email, False, by)


def operators() -> list[Account]:
    with get_db().session() as session:
        return [a for a in session.scalars(select(Account).order_by(Account.email)) if ROLE in (a.roles or [])]
