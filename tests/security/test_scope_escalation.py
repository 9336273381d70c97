"""Threat: a registered client (the attacker's own, registered with the project's CLI) obtains API
scopes it was never registered for, or uses a token made for one API at another.

Each test names the protection it proves (docs/threat-model.md, "Tokens and scopes").
"""

from __future__ import annotations

import json

import pytest
import requests
from click.testing import CliRunner

from idp.oidc import tokens
from shared.authorization import model
from tests.idp.helpers import (
    api_client,
    api_token,
    code_after_sign_in,
    exchange_code_for_tests,
    make_client,
    make_user,
    start_idp,
)
from tests.servers import LiveServer, free_port

REDIRECT = "http://rp.attacker.example/callback"
PASSWORD = "Attacker-Passw0rd"
API_SCOPES = "court_feed provisioning management"


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    from portals.justice import create_app, upgrade_database

    folder = tmp_path_factory.mktemp("escalation")
    idp = start_idp(f"sqlite:///{folder / 'idp.db'}", raw={"outbox": {"manual": True}})
    database = f"sqlite:///{folder / 'justice.db'}"
    upgrade_database(database)
    (folder / "justice").mkdir()
    justice = LiveServer(create_app({"database_url": database, "issuer": idp.url, "_quiet": True,
                                     "instance_path": folder / "justice", "raw": {"outbox": {"manual": True}}}),
                         free_port()).start()
    make_user(idp.app, "mallory@example.org", PASSWORD)
    yield idp, justice
    justice.stop()
    idp.stop()


def the_three_apis(idp, justice, token: str) -> list[int]:
    auth = {"Authorization": f"Bearer {token}"}
    return [
        requests.put(f"{justice.url}/api/court/cases/RG-FORGED", headers=auth,
                     json={"nature": "Divorce", "court": {"name": "TJ"}}).status_code,
        requests.post(f"{idp.url}/api/provisioning/invitations", headers=auth,
                      json={"email": "victim@example.org"}).status_code,
        requests.get(f"{idp.url}/api/management/me/organisations", headers=auth).status_code,
    ]


def test_client_credentials_never_exceed_the_registered_scopes(stack):
    """Finding 1: a client registered for person scopes asks client credentials for every API scope."""
    idp, justice = stack
    client_id, secret = make_client(idp.app, [REDIRECT], scope="openid profile email offline_access",
                                    grant_types=["authorization_code", "refresh_token", "client_credentials"])
    answer = requests.post(f"{idp.url}/token", auth=(client_id, secret),
                           data={"grant_type": "client_credentials", "scope": API_SCOPES})
    assert answer.status_code == 200
    assert answer.json()["scope"] == ""
    assert all(status == 401 for status in the_three_apis(idp, justice, answer.json()["access_token"]))


def test_api_scopes_cannot_be_registered_for_a_client_the_model_does_not_name(stack):
    idp, _justice = stack
    with pytest.raises(ValueError, match="config/authorization.toml"):
        make_client(idp.app, [REDIRECT], scope=f"openid {API_SCOPES}",
                    grant_types=["authorization_code", "client_credentials"])


def test_the_cli_registers_no_client_credentials_by_default(stack, monkeypatch):
    idp, _justice = stack
    from idp import cli

    monkeypatch.setattr(cli, "_app", lambda: idp.app)
    result = CliRunner().invoke(cli.main, ["clients", "add", "--name", "Mallory RP", "--redirect-uri",
                                          REDIRECT.replace("http:", "https:")])  # the CLI takes https only
    assert result.exit_code == 0, result.output
    registered = json.loads(result.output)
    assert registered["grant_types"] == ["authorization_code", "refresh_token"]
    answer = requests.post(f"{idp.url}/token", auth=(registered["client_id"], registered["client_secret"]),
                           data={"grant_type": "client_credentials"})
    assert answer.status_code == 400 and answer.json()["error"] == "unauthorized_client"
    refused = CliRunner().invoke(cli.main, ["clients", "add", "--name", "Mallory feed", "--redirect-uri",
                                            REDIRECT.replace("http:", "https:"),
                                            "--grant-type", "client_credentials", "--scope", "court_feed"])
    assert refused.exit_code != 0 and "config/authorization.toml" in refused.output


def test_the_code_grant_issues_at_most_the_registered_scopes(stack):
    """A person signs in at the attacker's client, which asks for API and unregistered scopes."""
    idp, justice = stack
    client_id, secret = make_client(idp.app, [REDIRECT], scope="openid profile", first_party=True)
    code, verifier = code_after_sign_in(idp, client_id, REDIRECT, "mallory@example.org", PASSWORD,
                                        f"openid profile email offline_access {API_SCOPES}")
    token = exchange_code_for_tests(idp.url, client_id, secret, code, verifier, REDIRECT)
    assert token["scope"] == "openid profile"
    assert "refresh_token" not in token
    assert all(status == 401 for status in the_three_apis(idp, justice, token["access_token"]))


def test_each_api_accepts_only_its_own_client(stack):
    """A token signed by the IdP with the right audience and scope, but issued to a client the model
    does not name for that API, is refused (the client check stands even if issuance erred)."""
    idp, justice = stack
    client_id, _secret = make_client(idp.app, [REDIRECT])
    from idp.services import clients

    for api in model().apis:
        with idp.app.test_request_context():
            token, _ = tokens.access_token(client_id, clients.get(client_id), api.scope, None, None, [api.audience])
        statuses = the_three_apis(idp, justice, token)
        assert all(status == 401 for status in statuses), (api.name, statuses)


def test_the_named_clients_reach_their_own_api_only(stack):
    idp, justice = stack
    statuses = {scope: the_three_apis(idp, justice, api_token(idp, scope))
                for scope in ("court_feed", "provisioning", "management")}
    assert statuses["court_feed"][0] == 201 and statuses["court_feed"][1:] == [401, 401]
    assert statuses["provisioning"][1] == 201 and statuses["provisioning"][0] == statuses["provisioning"][2] == 401
    assert statuses["management"][:2] == [401, 401]  # its third call acts for a person: 403 for a client token
    client_id, secret = api_client(idp.app, "court_feed")
    answer = requests.post(f"{idp.url}/token", auth=(client_id, secret),
                           data={"grant_type": "client_credentials", "scope": "court_feed provisioning openid"})
    assert answer.json()["scope"] == "court_feed"


@pytest.mark.parametrize("redirect_uri", ['http://rp.example/cb"', "http://rp.example/cb\\", "http://rp.example/é"])
def test_an_unworded_redirect_uri_is_a_clear_400(stack, redirect_uri):
    """Issue 15 §9: Authlib cannot put these characters in its error text; the answer is our page."""
    idp, _justice = stack
    client_id, _secret = make_client(idp.app, [REDIRECT])
    answer = requests.get(f"{idp.url}/authorize", params={"response_type": "code", "client_id": client_id,
                                                          "redirect_uri": redirect_uri, "scope": "openid"})
    assert answer.status_code == 400 and "redirect_uri" in answer.text


def test_a_code_presented_by_another_client_is_not_spent(stack):
    """Issue 15 §9: another client (the attacker's, holding a code that leaked from a victim's
    redirect) presents it: refused, and the code still works for the client it was issued to."""
    idp, _justice = stack
    client_id, secret = make_client(idp.app, [REDIRECT], scope="openid", first_party=True)
    other_id, other_secret = make_client(idp.app, [REDIRECT], scope="openid", first_party=True)
    code, verifier = code_after_sign_in(idp, client_id, REDIRECT, "mallory@example.org", PASSWORD, "openid")
    stolen = requests.post(f"{idp.url}/token", auth=(other_id, other_secret), data={
        "grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT, "code_verifier": verifier})
    assert stolen.status_code == 400 and stolen.json()["error"] == "invalid_grant"
    assert "access_token" in exchange_code_for_tests(idp.url, client_id, secret, code, verifier, REDIRECT)
