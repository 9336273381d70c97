"""A live IdP whose outbox delivers to the dev inbox, operators made as an administrator makes
them (``idp operators grant`` on the command line), and a Chromium page signed in as one of them."""

from __future__ import annotations

import json
import re
import secrets
import time
from dataclasses import dataclass

import pyotp
import pytest
from click.testing import CliRunner

from tests.idp.helpers import make_user, prove_mailbox_in_service, start_idp

PASSWORD = "Bonne-Passe-2026"


@pytest.fixture(scope="module")
def idp(tmp_path_factory, devinbox):
    folder = tmp_path_factory.mktemp("operations")
    server = start_idp(f"sqlite:///{folder}/idp.db", **devinbox.settings())
    server.database_url = f"sqlite:///{folder}/idp.db"
    yield server
    server.stop()


@pytest.fixture(autouse=True)
def fresh_throttles(request):
    if "idp" in request.fixturenames:
        redis = request.getfixturevalue("idp").app.extensions["redis"]
        for key in redis.scan_iter("idp:throttle:*"):
            redis.delete(key)


@pytest.fixture
def page(chromium):
    context = chromium.new_context(locale="fr-FR")
    yield context.new_page()
    context.close()


def idp_command(idp, monkeypatch, *args: str) -> dict:
    """``idp …`` as an administrator types it, on the live IdP's database."""
    from idp.cli import main

    monkeypatch.setenv("DATABASE_URL", idp.database_url)
    result = CliRunner().invoke(main, list(args))
    assert result.exit_code == 0, result.output
    return json.loads(result.output.strip().splitlines()[-1])


class Codes:
    """TOTP codes of one account, each time step once (the IdP refuses a replayed code)."""

    def __init__(self, secret: str):
        self.totp = pyotp.TOTP(secret)
        self.used: set[int] = set()

    def next(self) -> str:
        for drift in (0, 1, -1):
            step = self.totp.timecode(time.time()) + drift
            if step not in self.used:
                self.used.add(step)
                return self.totp.at(step * 30)
        raise AssertionError("no unused TOTP step left in this minute: use another account")


@dataclass
class Person:
    email: str
    id: str
    codes: Codes | None = None


def enrol_totp(idp, account_id: str) -> Codes:
    from idp.services import accounts, mfa

    sid = f"enrolment-{secrets.token_hex(4)}"
    with idp.app.test_request_context():
        email = accounts.get(account_id).email
    prove_mailbox_in_service(idp.app, sid, account_id, email)
    with idp.app.test_request_context():
        secret = mfa.start_enrolment(account_id, [])
        codes = Codes(secret)
        assert mfa.confirm_enrolment(account_id, codes.next(), [], keep_sid=sid)
    return codes


def new_person(idp, prefix: str, **kwargs) -> Person:
    email = f"{prefix}-{secrets.token_hex(4)}@example.org"
    account = make_user(idp.app, email, PASSWORD, **kwargs)
    return Person(email, account.id)


@pytest.fixture
def operator(idp, monkeypatch) -> Person:
    """An operator with a second factor, the role granted by the CLI."""
    person = new_person(idp, "operator", given_name="Olga", family_name="Operateur")
    person.codes = enrol_totp(idp, person.id)
    assert idp_command(idp, monkeypatch, "operators", "grant", person.email)["operator"] is True
    return person


def sign_in(page, idp, person: Person, next_path: str = "/operations/") -> None:
    """The IdP's own sign-in page, then the second factor when the account has one."""
    page.goto(f"{idp.url}/signin?next={next_path}")
    page.get_by_label("Adresse e-mail").fill(person.email)
    page.get_by_role("button", name="Continuer").click()
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Continuer").click()
    if person.codes is not None:
        page.get_by_label(re.compile("Code à 6 chiffres")).fill(person.codes.next())
        page.get_by_role("button", name="Valider").click()


@pytest.fixture
def console(page, idp, operator):
    """A page signed in as an operator, on the console's home."""
    sign_in(page, idp, operator)
    page.get_by_role("heading", name="Console des opérateurs").wait_for()
    return page


def audit_events(idp, kind: str) -> list:
    from sqlalchemy import select

    from idp.storage.sql.models import AuditEvent
    from shared.appkit import get_db

    with idp.app.app_context(), get_db().session() as session:
        return list(session.scalars(select(AuditEvent).where(AuditEvent.kind == kind).order_by(AuditEvent.id)))
