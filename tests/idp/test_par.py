"""Pushed authorization requests (RFC 9126), pushed and exchanged by Authlib's client (its
client authentication on the push: client_secret_basic and private_key_jwt; its token request
with PKCE). A client registered "PAR required" cannot start any other way; a request_uri is
single use and its client's only; the browser cannot change a pushed request."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest
import requests
from authlib.common.security import generate_token
from authlib.integrations.requests_client import OAuth2Session
from authlib.oauth2.rfc7523 import PrivateKeyJWT
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from joserfc.jwk import RSAKey

from tests.idp.helpers import make_client, make_user, sign_in_with_requests, start_idp

REDIRECT = "http://rp.example/callback"
EMAIL, PASSWORD = "par@example.org", "Correct-Horse-1"


@pytest.fixture(scope="module")
def idp(tmp_path_factory):
    server = start_idp(f"sqlite:///{tmp_path_factory.mktemp('par') / 'idp.db'}", raw={"outbox": {"manual": True}})
    make_user(server.app, EMAIL, PASSWORD)
    yield server
    server.stop()


def push(idp, session: OAuth2Session, verifier: str, **extra) -> requests.Response:
    """The push, authenticated by Authlib's client auth for the session's method (Authlib has no
    PAR helper of its own: the request is a plain POST with its auth)."""
    params = {"response_type": "code", "client_id": session.client_id, "redirect_uri": REDIRECT,
              "scope": "openid offline_access", "state": "st", "code_challenge": create_s256_code_challenge(verifier),
              "code_challenge_method": "S256", **extra}
    return requests.post(f"{idp.url}/par", data=params, auth=session.client_auth(session.token_endpoint_auth_method))


def authorize_url(idp, client_id: str, request_uri: str, **extra) -> str:
    return f"{idp.url}/authorize?" + urlencode({"client_id": client_id, "request_uri": request_uri, **extra})


def test_a_par_required_client_signs_in_through_a_pushed_request(idp):
    client_id, secret = make_client(idp.app, [REDIRECT], scope="openid offline_access", first_party=True,
                                    policy={"require_par": True})
    session = OAuth2Session(client_id, secret, redirect_uri=REDIRECT)
    verifier = generate_token(48)
    pushed = push(idp, session, verifier)
    assert pushed.status_code == 201, pushed.text
    body = pushed.json()
    assert body["request_uri"].startswith("urn:ietf:params:oauth:request_uri:") and body["expires_in"] > 0
    # the browser's copy of redirect_uri or scope cannot change what was pushed
    callback = sign_in_with_requests(requests.Session(), authorize_url(
        idp, client_id, body["request_uri"], redirect_uri="http://evil.example/cb", scope="openid profile"),
        EMAIL, PASSWORD, REDIRECT)
    assert callback["state"] == ["st"]
    token = session.fetch_token(f"{idp.url}/token", grant_type="authorization_code", code=callback["code"][0],
                                code_verifier=verifier)
    assert token["scope"] == "openid offline_access" and token["refresh_token"]
    # spent: the same request_uri again is refused, on the IdP's page (no redirect URI to trust)
    again = requests.get(authorize_url(idp, client_id, body["request_uri"]), allow_redirects=False)
    assert again.status_code == 400 and "invalid_request_uri" in again.text
    # and the client's plain authorization requests are refused
    plain = requests.get(f"{idp.url}/authorize", allow_redirects=False, params={
        "response_type": "code", "client_id": client_id, "redirect_uri": REDIRECT, "scope": "openid",
        "state": "s", "code_challenge": create_s256_code_challenge(verifier), "code_challenge_method": "S256"})
    assert plain.status_code == 302 and "error=invalid_request" in plain.headers["Location"]


def test_push_with_private_key_jwt(idp):
    key = RSAKey.generate_key(2048, parameters={"kid": "par"})
    client_id, _ = make_client(idp.app, [REDIRECT], scope="openid offline_access", first_party=True,
                               token_endpoint_auth_method="private_key_jwt",
                               jwks={"keys": [key.as_dict(private=False)]})
    session = OAuth2Session(client_id, key, token_endpoint_auth_method="private_key_jwt", redirect_uri=REDIRECT)
    session.register_client_auth_method(PrivateKeyJWT())
    verifier = generate_token(48)
    pushed = push(idp, session, verifier)  # the assertion's aud is the PAR endpoint's URL
    assert pushed.status_code == 201, pushed.text
    callback = sign_in_with_requests(requests.Session(), authorize_url(idp, client_id, pushed.json()["request_uri"]),
                                     EMAIL, PASSWORD, REDIRECT)
    token = session.fetch_token(f"{idp.url}/token", grant_type="authorization_code", code=callback["code"][0],
                                code_verifier=verifier)
    assert token["id_token"]


def test_a_request_uri_belongs_to_its_client_and_bad_pushes_are_told_why(idp):
    owner_id, owner_secret = make_client(idp.app, [REDIRECT], scope="openid", first_party=True)
    other_id, _ = make_client(idp.app, [REDIRECT], scope="openid", first_party=True)
    session = OAuth2Session(owner_id, owner_secret, redirect_uri=REDIRECT)
    pushed = push(idp, session, generate_token(48)).json()
    stolen = requests.get(authorize_url(idp, other_id, pushed["request_uri"]), allow_redirects=False)
    assert stolen.status_code == 400 and "invalid_request_uri" in stolen.text
    # and the attempt did not spend it: its client still starts its sign-in with it
    kept = requests.get(authorize_url(idp, owner_id, pushed["request_uri"]), allow_redirects=False)
    assert kept.status_code in (200, 302) and "invalid_request_uri" not in kept.text
    bad_redirect = push(idp, session, generate_token(48), redirect_uri="http://evil.example/cb")
    assert bad_redirect.status_code == 400 and bad_redirect.json()["error"] == "invalid_request"
    no_pkce = requests.post(f"{idp.url}/par", auth=(owner_id, owner_secret), data={
        "response_type": "code", "client_id": owner_id, "redirect_uri": REDIRECT, "scope": "openid"})
    assert no_pkce.status_code == 400 and "PKCE" in no_pkce.json()["error_description"]
    unauthenticated = requests.post(f"{idp.url}/par", data={"response_type": "code", "client_id": owner_id,
                                                             "redirect_uri": REDIRECT})
    assert unauthenticated.status_code in (400, 401) and unauthenticated.json()["error"] == "invalid_client"
    nested = push(idp, session, generate_token(48), request_uri="urn:ietf:params:oauth:request_uri:x")
    assert nested.status_code == 400
