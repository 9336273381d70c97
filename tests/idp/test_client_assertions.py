"""Client authentication with signed JWTs (RFC 7523): private_key_jwt (keys inline or at a
jwks_uri) and client_secret_jwt, driven by Authlib's own client (PrivateKeyJWT, ClientSecretJWT):
code exchange, refresh, revocation and introspection. Each assertion is single use, made for this
IdP only, and signed by the client's own key. Threats: docs/threat-model-oidc.md (O2)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time

import pytest
import requests
from authlib.integrations.requests_client import OAuth2Session
from authlib.oauth2.rfc7523 import ClientSecretJWT, PrivateKeyJWT
from authlib.oauth2.rfc7523.assertion import private_key_jwt_sign
from flask import Flask, jsonify
from joserfc.jwk import RSAKey

from tests.idp.helpers import code_after_sign_in, idp_with_user, make_client
from tests.servers import LiveServer, free_port

REDIRECT = "http://rp.example/callback"
EMAIL, PASSWORD = "assert@example.org", "Correct-Horse-1"
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"


def key_pair(kid: str) -> tuple[RSAKey, dict]:
    key = RSAKey.generate_key(2048, parameters={"kid": kid})
    return key, {"keys": [key.as_dict(private=False)]}


@pytest.fixture(scope="module")
def idp(tmp_path_factory):
    with idp_with_user(tmp_path_factory.mktemp('assert'), EMAIL, PASSWORD) as server:
        yield server


@pytest.fixture(scope="module")
def client_jwks_server():
    """The client's own jwks_uri: what it serves can change (key rotation)."""
    served = {"jwks": {"keys": []}}
    app = Flask("client-jwks")
    app.add_url_rule("/jwks.json", "jwks", lambda: jsonify(served["jwks"]))
    server = LiveServer(app, free_port()).start()
    server.served = served
    yield server
    server.stop()


def session_for(idp, client_id: str, key, method: str) -> OAuth2Session:
    session = OAuth2Session(client_id, key, token_endpoint_auth_method=method, revocation_endpoint_auth_method=method,
                            redirect_uri=REDIRECT)
    session.register_client_auth_method(PrivateKeyJWT() if method == "private_key_jwt" else ClientSecretJWT())
    return session


def sign_in_and_exchange(idp, session: OAuth2Session) -> dict:
    code, verifier = code_after_sign_in(idp, session.client_id, REDIRECT, EMAIL, PASSWORD, "openid offline_access")
    return session.fetch_token(f"{idp.url}/token", grant_type="authorization_code", code=code,
                               code_verifier=verifier)


def test_private_key_jwt_with_inline_keys_through_code_refresh_revocation(idp):
    key, jwks = key_pair("rp-1")
    client_id, secret = make_client(idp.app, [REDIRECT], scope="openid offline_access", first_party=True,
                                    token_endpoint_auth_method="private_key_jwt", jwks=jwks)
    assert secret is None  # nothing shared: the IdP holds only the public key
    session = session_for(idp, client_id, key, "private_key_jwt")
    token = sign_in_and_exchange(idp, session)
    assert token["id_token"] and token["refresh_token"]
    refreshed = session.refresh_token(f"{idp.url}/token")
    assert refreshed["refresh_token"] != token["refresh_token"]
    assert session.introspect_token(f"{idp.url}/introspect", token=refreshed["access_token"]).json()["active"] is True
    revoked = session.revoke_token(f"{idp.url}/revoke", token=refreshed["refresh_token"])
    assert revoked.status_code == 200, revoked.text
    assert session.introspect_token(f"{idp.url}/introspect", token=refreshed["access_token"]).json() == {"active": False}
    # the client's secret-based methods do not exist for it
    answer = requests.post(f"{idp.url}/token", auth=(client_id, "anything"),
                           data={"grant_type": "refresh_token", "refresh_token": refreshed["refresh_token"]})
    assert answer.status_code == 401


def test_private_key_jwt_with_a_jwks_uri_follows_the_clients_key_rotation(idp, client_jwks_server):
    old_key, old_jwks = key_pair("2026-11")
    client_jwks_server.served["jwks"] = old_jwks
    client_id, _ = make_client(idp.app, [REDIRECT], scope="openid offline_access", first_party=True,
                               token_endpoint_auth_method="private_key_jwt",
                               jwks_uri=f"{client_jwks_server.url}/jwks.json")
    sign_in_and_exchange(idp, session_for(idp, client_id, old_key, "private_key_jwt"))
    new_key, new_jwks = key_pair("2026-12")
    client_jwks_server.served["jwks"] = new_jwks  # the client rotated: the IdP reads its jwks_uri again
    sign_in_and_exchange(idp, session_for(idp, client_id, new_key, "private_key_jwt"))


def test_client_secret_jwt(idp):
    client_id, secret = make_client(idp.app, [REDIRECT], scope="openid offline_access", first_party=True,
                                    token_endpoint_auth_method="client_secret_jwt")
    session = session_for(idp, client_id, secret, "client_secret_jwt")
    assert sign_in_and_exchange(idp, session)["access_token"]
    wrong = session_for(idp, client_id, secret + "x", "client_secret_jwt")
    with pytest.raises(Exception, match="invalid_client"):
        wrong.refresh_token(f"{idp.url}/token", refresh_token=session.token["refresh_token"])


def hs256(secret: bytes, claims: dict) -> str:
    def part(value: dict) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()

    signing_input = f"{part({'alg': 'HS256', 'typ': 'JWT'})}.{part(claims)}"
    signature = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{base64.urlsafe_b64encode(signature).rstrip(b'=').decode()}"


def token_request(idp, assertion: str, refresh_token: str = "x") -> requests.Response:
    return requests.post(f"{idp.url}/token", data={"grant_type": "refresh_token", "refresh_token": refresh_token,
                                                    "client_assertion_type": ASSERTION_TYPE,
                                                    "client_assertion": assertion})


def test_an_assertion_is_single_use_and_made_for_this_idp_only(idp):
    key, jwks = key_pair("rp-2")
    client_id, _ = make_client(idp.app, [REDIRECT], scope="openid offline_access", first_party=True,
                               token_endpoint_auth_method="private_key_jwt", jwks=jwks)
    token = sign_in_and_exchange(idp, session_for(idp, client_id, key, "private_key_jwt"))
    assertion = private_key_jwt_sign(key, client_id, f"{idp.url}/token")
    assert token_request(idp, assertion, token["refresh_token"]).status_code == 200
    replayed = token_request(idp, assertion, token["refresh_token"])  # captured and sent again
    assert replayed.status_code == 400 and replayed.json()["error"] == "invalid_client"
    for_elsewhere = private_key_jwt_sign(key, client_id, "https://other-idp.example/token")
    assert token_request(idp, for_elsewhere).json()["error"] == "invalid_client"
    expired = private_key_jwt_sign(key, client_id, f"{idp.url}/token", issued_at=int(time.time()) - 7200,
                                   expires_at=int(time.time()) - 3600)
    assert token_request(idp, expired).json()["error"] == "invalid_client"


def test_a_client_cannot_assert_as_another(idp):
    """O2: client B signs an assertion naming client A (iss = sub = A) with B's own key, or with
    A's public key as an HMAC secret (algorithm confusion): both refused."""
    key_a, jwks_a = key_pair("a")
    key_b, jwks_b = key_pair("b")
    victim, _ = make_client(idp.app, [REDIRECT], scope="openid offline_access", first_party=True,
                            token_endpoint_auth_method="private_key_jwt", jwks=jwks_a)
    make_client(idp.app, [REDIRECT], token_endpoint_auth_method="private_key_jwt", jwks=jwks_b)
    token = sign_in_and_exchange(idp, session_for(idp, victim, key_a, "private_key_jwt"))
    with_b_key = private_key_jwt_sign(key_b, victim, f"{idp.url}/token")
    assert token_request(idp, with_b_key, token["refresh_token"]).json()["error"] == "invalid_client"
    confused = hs256(key_a.as_pem(private=False), {  # joserfc itself refuses to build such a key
        "iss": victim, "sub": victim, "aud": f"{idp.url}/token", "exp": int(time.time()) + 60, "jti": "confused"})
    assert token_request(idp, confused, token["refresh_token"]).json()["error"] == "invalid_client"
    # the victim's own assertion still works: nothing above spent its refresh token
    assert token_request(idp, private_key_jwt_sign(key_a, victim, f"{idp.url}/token"),
                         token["refresh_token"]).status_code == 200


def test_registration_refuses_private_keys_and_missing_keys(idp):
    key, _ = key_pair("leak")
    with pytest.raises(ValueError, match="public keys only"):
        make_client(idp.app, [REDIRECT], token_endpoint_auth_method="private_key_jwt",
                    jwks={"keys": [key.as_dict(private=True)]})
    with pytest.raises(ValueError, match="exactly one"):
        make_client(idp.app, [REDIRECT], token_endpoint_auth_method="private_key_jwt")
