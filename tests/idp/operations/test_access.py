"""Who reaches the operators' console, in Chromium: an operator who proved the second factor
recently; never a signed-in non-operator, an operator whose password alone was stolen, an
operator without a second factor, nor a form posted from elsewhere (docs/threat-model-console.md)."""

from __future__ import annotations

import json
import time

import pytest

from idp.services import sessions
from idp.services.operators import ROLE
from idp.storage.sql.models import Account
from shared.appkit import get_db
from tests.idp.helpers import make_client
from tests.idp.operations.conftest import audit_events, enrol_totp, idp_command, new_person, sign_in

pytestmark = pytest.mark.browser


def session_record(idp, page) -> tuple[str, dict]:
    sid = sessions.sid_of(next(c["value"] for c in page.context.cookies() if c["name"] == "idp_sid"))
    redis = idp.app.extensions["redis"]
    return sid, json.loads(redis.get(f"idp:session:{sid}"))


def test_the_role_is_granted_and_revoked_by_the_cli_and_audited(idp, monkeypatch, page):
    person = new_person(idp, "cli")
    person.codes = enrol_totp(idp, person.id)
    idp_command(idp, monkeypatch, "operators", "grant", person.email)
    assert [e.account_id for e in audit_events(idp, "operator_granted")][-1] == person.id
    listed = idp_command(idp, monkeypatch, "operators", "list")
    assert {"email": person.email, "second_factor": True} in listed
    idp_command(idp, monkeypatch, "operators", "revoke", person.email)
    assert [e.account_id for e in audit_events(idp, "operator_revoked")][-1] == person.id
    assert person.email not in [o["email"] for o in idp_command(idp, monkeypatch, "operators", "list")]


def test_the_cli_refuses_the_role_to_an_account_without_a_second_factor(idp, monkeypatch):
    """Outside review S3: a thief holding only the password of such an account would enrol the
    first factor and open the console."""
    from click.testing import CliRunner

    from idp.cli import main

    person = new_person(idp, "nofactor")
    monkeypatch.setenv("DATABASE_URL", idp.database_url)
    result = CliRunner().invoke(main, ["operators", "grant", person.email])
    assert result.exit_code != 0
    assert "has no second factor" in result.output and "/account" in result.output
    assert person.email not in [o["email"] for o in idp_command(idp, monkeypatch, "operators", "list")]
    assert person.id not in [e.account_id for e in audit_events(idp, "operator_granted")]


def test_a_signed_in_non_operator_is_refused_every_page(page, idp):
    person = new_person(idp, "citizen")
    sign_in(page, idp, person, "/account")
    page.get_by_role("heading", name="Mon compte").wait_for()
    for path in ("/operations/", "/operations/clients", "/operations/clients/new", "/operations/verify"):
        answer = page.goto(idp.url + path)
        assert answer.status == 403, path
        assert page.get_by_role("heading", name="Accès refusé").is_visible()


def test_an_operator_without_a_second_factor_is_sent_to_enrol(page, idp):
    # grant refuses such an account now; the role may still come from before that rule (an old grant)
    person = new_person(idp, "oldgrant")
    with idp.app.app_context(), get_db().session() as session:
        session.get(Account, person.id).roles = [ROLE]
    sign_in(page, idp, person, "/account")
    page.get_by_role("heading", name="Mon compte").wait_for()
    answer = page.goto(idp.url + "/operations/clients")
    assert answer.status == 403
    page.get_by_role("heading", name="Validation en deux étapes requise").wait_for()
    assert page.get_by_role("link", name="Activer la validation en deux étapes").is_visible()


def test_a_stolen_password_without_the_code_opens_nothing(page, idp, operator):
    client_id, _secret = make_client(idp.app, redirect_uris=["https://rp.example/cb"])
    # the thief knows the password and stops at the code
    page.goto(f"{idp.url}/signin?next=/operations/")
    page.get_by_label("Adresse e-mail").fill(operator.email)
    page.get_by_role("button", name="Continuer").click()
    page.get_by_label("Mot de passe").fill("Bonne-Passe-2026")
    page.get_by_role("button", name="Continuer").click()
    page.get_by_role("heading", name="Validation en deux étapes").wait_for()
    page.goto(idp.url + f"/operations/clients/{client_id}")
    assert "/operations/verify" in page.url
    page.get_by_label("Code à 6 chiffres de votre application d'authentification").fill("000000")
    page.get_by_role("button", name="Valider").click()
    assert page.get_by_role("alert").is_visible()
    assert "Ce code n'est pas valable" in page.content()
    # a form posted with a valid CSRF token still meets the door, and nothing changes
    token = page.locator("input[name=csrf_token]").first.get_attribute("value")
    answer = page.request.post(f"{idp.url}/operations/clients/{client_id}/disable", form={"csrf_token": token},
                               max_redirects=0)
    assert answer.status == 303 and "/operations/verify" in answer.headers["location"]
    with idp.app.app_context():
        from idp.services import clients

        assert clients.get(client_id, fresh=True) is not None  # still enabled


def test_an_old_proof_is_asked_again(console, idp, operator):
    sid, record = session_record(idp, console)
    record["context"]["second_factor_at"] = time.time() - 16 * 60  # the configured window is 15 minutes
    idp.app.extensions["redis"].set(f"idp:session:{sid}", json.dumps(record), keepttl=True)
    console.goto(idp.url + "/operations/clients")
    console.get_by_role("heading", name="Confirmez votre identité").wait_for()
    console.get_by_label("Code à 6 chiffres de votre application d'authentification").fill(operator.codes.next())
    console.get_by_role("button", name="Valider").click()
    console.get_by_role("heading", name="Clients enregistrés").wait_for()
    assert console.url.endswith("/operations/clients")
    assert [e.account_id for e in audit_events(idp, "operations_second_factor")][-1] == operator.id


def test_a_form_posted_without_the_csrf_token_changes_nothing(console, idp):
    client_id, _secret = make_client(idp.app, redirect_uris=["https://rp.example/cb"])
    # a link or a foreign page: a GET never acts, a POST without this page's token is refused
    assert console.request.get(f"{idp.url}/operations/clients/{client_id}/disable").status == 405
    refused = console.request.post(f"{idp.url}/operations/clients/{client_id}/disable", form={}, max_redirects=0)
    assert refused.status == 400
    with idp.app.app_context():
        from idp.services import clients

        assert clients.get(client_id, fresh=True) is not None
    assert not [e for e in audit_events(idp, "operations_client_disabled") if e.client_id == client_id]


def test_the_home_page_points_to_the_operations_guide(console):
    from pathlib import Path

    guide = console.locator("code", has_text="docs/operations/README.md")
    assert guide.is_visible()
    text = (Path(__file__).resolve().parents[3] / "docs/operations/README.md").read_text()
    assert "## The operators' console" in text  # the section the page names is there
