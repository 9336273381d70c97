"""An operator whose factor is a passkey opens the console with it, in Chromium (the virtual
authenticator stands in for the key): the passkey proven at sign-in counts as the TOTP code does,
and once the proof is old the console's own page asks for the passkey again."""

from __future__ import annotations

import json
import time

import pytest

from idp.services import sessions
from tests.idp.helpers import start_idp
from tests.idp.operations.conftest import audit_events, idp_command, new_person
from tests.idp.passkeys.conftest import (
    Authenticator,
    add_passkey,
    sign_in_with_password,
    use_passkey,
    without_autofill,
)

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def idp(tmp_path_factory, devinbox):
    """At http://localhost (WebAuthn refuses an IP address as RP id)."""
    database_url = f"sqlite:///{tmp_path_factory.mktemp('operations-passkey')}/idp.db"
    server = start_idp(database_url, host="localhost", **devinbox.settings())
    server.database_url = database_url
    yield server
    server.stop()


def age_the_proof(idp, page) -> None:
    sid = sessions.sid_of(next(c["value"] for c in page.context.cookies() if c["name"] == "idp_sid"))
    redis = idp.app.extensions["redis"]
    record = json.loads(redis.get(f"idp:session:{sid}"))
    record["context"]["second_factor_at"] = time.time() - 16 * 60  # the configured window is 15 minutes
    redis.set(f"idp:session:{sid}", json.dumps(record), keepttl=True)


def test_an_operator_proves_the_console_with_a_passkey(page, idp, monkeypatch):
    person = new_person(idp, "keyholder")
    without_autofill(page)
    Authenticator(page)
    sign_in_with_password(page, idp.url, person.email, next_path="/account/passkeys")
    add_passkey(page, idp, "Clé de bureau")  # its first factor, added after the password
    assert idp_command(idp, monkeypatch, "operators", "grant", person.email)["second_factor"] is False  # no TOTP

    # the passkey just proven opens the console
    page.goto(idp.url + "/operations/")
    page.get_by_role("heading", name="Console des opérateurs").wait_for()

    # later, the console asks again, and the passkey answers
    age_the_proof(idp, page)
    page.goto(idp.url + "/operations/clients")
    page.get_by_role("heading", name="Confirmez votre identité").wait_for()
    assert page.get_by_label("Code à 6 chiffres de votre application d'authentification").count() == 0
    use_passkey(page)
    page.get_by_role("heading", name="Clients enregistrés").wait_for()
    assert page.url.endswith("/operations/clients")
    proofs = [e for e in audit_events(idp, "operations_second_factor") if e.account_id == person.id]
    assert [e.detail["method"] for e in proofs] == ["hwk"]


def test_a_passkey_of_an_old_session_does_not_stand_for_a_fresh_proof(page, idp, monkeypatch):
    person = new_person(idp, "stale")
    without_autofill(page)
    Authenticator(page)
    sign_in_with_password(page, idp.url, person.email, next_path="/account/passkeys")
    add_passkey(page, idp, "Clé")
    idp_command(idp, monkeypatch, "operators", "grant", person.email)
    age_the_proof(idp, page)
    # a forged assertion or none: the answer is refused and the console stays shut
    page.goto(idp.url + "/operations/verify")
    token = page.locator("input[name=csrf_token]").first.get_attribute("value")
    refused = page.request.post(idp.url + "/operations/verify", form={"csrf_token": token, "response": "{}"})
    assert refused.status == 400
    page.goto(idp.url + "/operations/clients")
    assert "/operations/verify" in page.url
