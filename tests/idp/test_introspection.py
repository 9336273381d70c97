"""Token introspection (RFC 7662) for resource servers with their own credentials, asked through
Authlib's client (OAuth2Session.introspect_token). A token is described only to its audience:
the justice portal (resource server of the court feed in config/authorization.toml) about court
feed tokens, a client about the tokens issued to it; to anyone else it is inactive. Threat O3."""

from __future__ import annotations

import pytest
import requests
from authlib.integrations.requests_client import OAuth2Session

from shared.authorization import model
from tests.idp.helpers import (
    api_token,
    code_after_sign_in,
    exchange_code_for_tests,
    make_client,
    make_user,
    start_idp,
)

REDIRECT = "http://rp.example/callback"
EMAIL, PASSWORD = "introspect@example.org", "Correct-Horse-1"


@pytest.fixture(scope="module")
def idp(tmp_path_factory):
    server = start_idp(f"sqlite:///{tmp_path_factory.mktemp('introspect') / 'idp.db'}", raw={"outbox": {"manual": True}})
    make_user(server.app, EMAIL, PASSWORD)
    yield server
    server.stop()


_servers: dict[tuple[str, str], OAuth2Session] = {}


def resource_server(idp, client_id: str) -> OAuth2Session:
    """A resource server: a confidential client with no grant of its own, only credentials."""
    if (idp.url, client_id) not in _servers:
        _id, secret = make_client(idp.app, [], client_id=client_id, grant_types=[], scope="")
        _servers[idp.url, client_id] = OAuth2Session(client_id, secret)
    return _servers[idp.url, client_id]


def introspect(idp, session: OAuth2Session, token: str, hint: str | None = None) -> dict:
    answer = session.introspect_token(f"{idp.url}/introspect", token=token, token_type_hint=hint)
    assert answer.status_code == 200, answer.text
    return answer.json()


def test_the_court_feeds_resource_server_introspects_its_tokens_and_only_it(idp):
    feed_token = api_token(idp, "court_feed")
    justice = resource_server(idp, sorted(model().api("court_feed").resource_servers)[0])
    described = introspect(idp, justice, feed_token)
    assert described["active"] is True and described["scope"] == "court_feed"
    assert described["client_id"] == "justice_court" and model().api("court_feed").audience in [described["aud"]]
    other = resource_server(idp, "another-rs")
    assert introspect(idp, other, feed_token) == {"active": False}  # not its API: it learns nothing


def test_a_client_introspects_its_own_tokens_not_anothers(idp):
    owner_id, owner_secret = make_client(idp.app, [REDIRECT], scope="openid offline_access", first_party=True)
    code, verifier = code_after_sign_in(idp, owner_id, REDIRECT, EMAIL, PASSWORD, "openid offline_access")
    issued = exchange_code_for_tests(idp.url, owner_id, owner_secret, code, verifier, REDIRECT)
    owner = OAuth2Session(owner_id, owner_secret)
    access = introspect(idp, owner, issued["access_token"])
    assert access["active"] is True and access["sub"] and access["token_type"] == "Bearer"
    refresh = introspect(idp, owner, issued["refresh_token"], "refresh_token")
    assert refresh["active"] is True and refresh["token_type"] == "refresh_token"
    other_id, other_secret = make_client(idp.app, [REDIRECT], scope="openid offline_access")
    other = OAuth2Session(other_id, other_secret)
    assert introspect(idp, other, issued["access_token"]) == {"active": False}
    assert introspect(idp, other, issued["refresh_token"]) == {"active": False}
    feed_rs = resource_server(idp, sorted(model().api("court_feed").resource_servers)[0])
    assert introspect(idp, feed_rs, issued["access_token"]) == {"active": False}
    # revoked, the token is inactive for its owner too
    assert requests.post(f"{idp.url}/revoke", auth=(owner_id, owner_secret),
                         data={"token": issued["refresh_token"]}).status_code == 200
    assert introspect(idp, owner, issued["access_token"]) == {"active": False}


def test_introspection_needs_a_confidential_clients_credentials(idp):
    token = api_token(idp, "court_feed")
    assert requests.post(f"{idp.url}/introspect", data={"token": token}).status_code == 401
    rs = resource_server(idp, "rs-with-secret")
    assert requests.post(f"{idp.url}/introspect", auth=(rs.client_id, "wrong"), data={"token": token}).status_code == 401
    public_id, _ = make_client(idp.app, ["http://spa.example/cb"], token_endpoint_auth_method="none")
    answer = requests.post(f"{idp.url}/introspect", data={"token": token, "client_id": public_id})
    assert answer.status_code in (400, 401) and answer.json()["error"] == "invalid_client"
