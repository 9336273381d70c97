"""The redirect-URI rules an operator's registration meets, from the console or ``idp clients add``
(one validator: ``clients.check_operator_uris``): each refusal names its reason, and nothing is
stored, neither a new client nor half of a change."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from idp.services import clients, operations_clients
from tests.idp.helpers import make_client
from tests.idp.operations.conftest import audit_events

REFUSED = [
    ("https://*.rp.example/cb", "uri_wildcard"),
    ("https://rp.example@evil.example/cb", "uri_userinfo"),
    ("https://user:pw@rp.example/cb", "uri_userinfo"),
    ("http://rp.example/cb", "uri_plain_http"),
    ("http://localhost.evil.example/cb", "uri_plain_http"),
    ("https://rp.example/cb#here", "uri_fragment"),
    ("https://rp.example/" + "a" * 2000, "uri_too_long"),
    ("ftp://rp.example/cb", "bad_uri"),
    ("https://rp.example:port/cb", "bad_uri"),
]
ACCEPTED = ["https://rp.example/cb", "http://127.0.0.1/cb", "http://[::1]:8080/cb", "http://localhost:8765/native"]


def registration(redirect_uri: str, post_logout: str = "https://rp.example/") -> operations_clients.Registration:
    return operations_clients.Registration(
        name="Portail", client_id=None, redirect_uris=[redirect_uri], post_logout_redirect_uris=[post_logout],
        backchannel_logout_uri=None, auth_method="client_secret_basic", grant_types=[], scope="openid",
        first_party=False, require_par=False, jwks_uri=None)


@pytest.mark.parametrize(("uri", "code"), REFUSED)
def test_a_refused_uri_stores_nothing_and_says_why(idp, uri, code):
    client_id, _secret = make_client(idp.app, redirect_uris=["https://rp.example/cb"])
    before = len(audit_events(idp, "operations_client_registered")), len(clients_now(idp))
    with idp.app.app_context():
        with pytest.raises(clients.RegistrationRefused) as registering:
            operations_clients.register("operator-id", registration(uri))
        with pytest.raises(clients.RegistrationRefused) as changing:  # a bad post-logout URI beside a good redirect
            operations_clients.change_redirect_uris("operator-id", client_id, ["https://rp.example/new"], [uri])
        assert clients.get(client_id, fresh=True).redirect_uris == ("https://rp.example/cb",)
    assert registering.value.code == changing.value.code == code
    assert (len(audit_events(idp, "operations_client_registered")), len(clients_now(idp))) == before
    assert not [e for e in audit_events(idp, "operations_client_redirect_uris") if e.client_id == client_id]


@pytest.mark.parametrize("uri", ACCEPTED)
def test_https_and_loopback_http_are_accepted(idp, uri):
    with idp.app.app_context():
        client, _secret = operations_clients.register("operator-id", registration(uri))
    assert client.redirect_uris == (uri,)


def test_the_cli_applies_the_same_rules(idp, monkeypatch):
    from idp.cli import main

    monkeypatch.setenv("DATABASE_URL", idp.database_url)
    refused = CliRunner().invoke(main, ["clients", "add", "--name", "Joker", "--redirect-uri", "https://*.rp.example/cb"])
    assert refused.exit_code != 0 and "uri wildcard" in refused.output
    assert "Joker" not in [c.name for c in clients_now(idp)]


def clients_now(idp) -> list:
    with idp.app.app_context():
        return clients.all_clients()
