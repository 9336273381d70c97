"""Accounts: lookup by identifier (email or seed-002 username), creation, password set, sign-in."""

from __future__ import annotations

from sqlalchemy import select, update

from idp.services import audit, text_fields
from idp.services.passwords import hash_password, unmet_rules, verify_password
from idp.storage.sql.models import Account
from shared.appkit import get_db
from shared.timeutil import utcnow


class AccountError(ValueError):
    """A rule refused the change; ``code`` names it."""

    def __init__(self, code: str, detail: object = None):
        super().__init__(code)
        self.code = code
        self.detail = detail


def normalise_email(email: str) -> str:
    return email.strip().lower()


def find_by_identifier(identifier: str) -> Account | None:
    identifier = identifier.strip()
    if not identifier:
        return None
    with get_db().single() as session:
        if "@" in identifier:
            return session.scalar(select(Account).where(Account.email == normalise_email(identifier)))
        # usernames are stored lower-case (seed-002 rule): an equality on the unique index, no scan
        return session.scalar(select(Account).where(Account.username == identifier.lower()))


def get(account_id: str) -> Account | None:
    with get_db().single() as session:
        return session.get(Account, account_id)


def create(email: str, password: str | None = None, status: str = "active", roles: list[str] | None = None,
           given_name: str | None = None, family_name: str | None = None, locale: str = "fr",
           username: str | None = None, check_rules: bool = True) -> Account:
    email = normalise_email(email)
    if password is not None and check_rules and (unmet := unmet_rules(password)):
        raise AccountError("weak_password", unmet)
    names = text_fields.require(given_name=given_name, family_name=family_name)  # BadText: not one line
    given_name, family_name = names["given_name"], names["family_name"]
    with get_db().session() as session:
        if session.scalar(select(Account.id).where(Account.email == email)):
            raise AccountError("email_taken")
        account = Account(email=email, password_hash=hash_password(password) if password else None,
                          status=status, roles=list(roles or []), given_name=given_name,
                          family_name=family_name, locale=locale, username=username.lower() if username else None,
                          email_verified=status == "active", password_changed_at=utcnow() if password else None)
        session.add(account)
    return account


def set_password(account_id: str, password: str) -> None:
    if unmet := unmet_rules(password):
        raise AccountError("weak_password", unmet)
    with get_db().session() as session:
        account = session.get(Account, account_id)
        account.password_hash = hash_password(password)
        account.password_changed_at = utcnow()


def check_password(account: Account | None, password: str) -> bool:
    """Constant work whether or not the account exists; upgrades the hash when parameters changed."""
    result = verify_password(account.password_hash if account else None, password)
    if result.ok and result.new_hash and account:
        with get_db().session() as session:
            session.get(Account, account.id).password_hash = result.new_hash
    return result.ok


def record_sign_in(account_id: str, **audit_detail) -> None:
    """The last sign-in date (dormancy rule) and the audit event, in one transaction."""
    with get_db().session() as session:
        session.execute(update(Account).where(Account.id == account_id).values(last_login_at=utcnow()))
        audit.record("sign_in", account_id, within=session, **audit_detail)
