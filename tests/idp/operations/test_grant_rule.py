"""Outside review S3, the console's part: the operator role lives only on an account with a second
factor. Removing the last one (turning TOTP off, removing the last passkey, the support desk's reset)
withdraws the role in the same transaction, audited; removing one of two keeps it."""

from __future__ import annotations

import secrets

from idp.services import mfa, operators, passkeys
from idp.storage.sql.models import Account
from idp.storage.sql.passkeys import Passkey
from shared.appkit import get_db
from tests.idp.operations.conftest import audit_events, enrol_totp, new_person


def add_passkey_row(idp, account_id: str) -> str:
    """A registered passkey as the ceremony stores it (its key is never used here)."""
    with idp.app.app_context(), get_db().session() as session:
        passkey = Passkey(account_id=account_id, credential_id=secrets.token_urlsafe(16), public_key=b"unused",
                          name="Clé USB")
        session.add(passkey)
        session.flush()
        return passkey.id


def is_operator(idp, account_id: str) -> bool:
    with idp.app.app_context(), get_db().session() as session:
        return operators.ROLE in (session.get(Account, account_id).roles or [])


def withdrawals(idp, account_id: str) -> list[dict]:
    return [e.detail for e in audit_events(idp, "operator_revoked") if e.account_id == account_id]


def new_operator(idp, prefix: str):
    person = new_person(idp, prefix)
    enrol_totp(idp, person.id)
    with idp.app.app_context():
        operators.grant(person.email)
    return person


def test_turning_totp_off_withdraws_the_role_unless_a_passkey_remains(idp):
    alone = new_operator(idp, "totp-only")
    with idp.app.test_request_context():
        mfa.disable(alone.id, ["pwd", "otp"])
    assert not is_operator(idp, alone.id)
    assert withdrawals(idp, alone.id) == [{"by": "factor_removed"}]

    kept = new_operator(idp, "totp-and-key")
    passkey_id = add_passkey_row(idp, kept.id)
    with idp.app.test_request_context():
        mfa.disable(kept.id, ["pwd", "otp"])
    assert is_operator(idp, kept.id) and withdrawals(idp, kept.id) == []
    with idp.app.test_request_context():
        passkeys.remove(kept.id, passkey_id, ["pwd", "hwk"])
    assert not is_operator(idp, kept.id)
    assert withdrawals(idp, kept.id) == [{"by": "factor_removed"}]


def test_the_support_desks_reset_withdraws_the_role(idp):
    person = new_operator(idp, "reset")
    add_passkey_row(idp, person.id)
    with idp.app.test_request_context():
        assert mfa.remove(person.id)
    assert not is_operator(idp, person.id)
    assert withdrawals(idp, person.id) == [{"by": "factor_removed"}]


def test_a_passkey_alone_is_a_factor_for_the_grant(idp):
    person = new_person(idp, "key-only")
    add_passkey_row(idp, person.id)
    with idp.app.app_context():
        operators.grant(person.email)
    assert is_operator(idp, person.id)
