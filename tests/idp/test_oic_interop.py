"""A third-party certified RP library (pyoidc, ``oic``) completes the whole flow against the IdP,
through the HTML sign-in forms: discovery, code + PKCE, ID-token validation, userinfo, refresh,
RP-initiated logout. Runs on SQLite + fakeredis and on PostgreSQL + real Redis."""

from __future__ import annotations

import secrets
import uuid
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
import requests
from oic.oic import Client
from oic.oic.message import AuthorizationResponse, RegistrationResponse
from oic.utils.authn.client import CLIENT_AUTHN_METHOD

from tests.idp.helpers import make_client, make_user, sign_in_with_requests

REDIRECT = "http://rp.example/callback"
PASSWORD = "Correct-Horse-7"


@pytest.fixture
def rp(live_idp):
    email = f"{uuid.uuid4().hex[:8]}@example.org"
    make_user(live_idp.app, email, PASSWORD, given_name="Ada", family_name="Lovelace")
    client_id, secret = make_client(live_idp.app, [REDIRECT], post_logout_redirect_uris=["http://rp.example/"],
                                    first_party=True)
    client = Client(client_authn_method=CLIENT_AUTHN_METHOD, verify_ssl=False)
    client.provider_config(live_idp.url)
    client.store_registration_info(RegistrationResponse(client_id=client_id, client_secret=secret,
                                                        redirect_uris=[REDIRECT]))
    return client, email


def authorize(client, http, email, **extra):
    state, nonce = secrets.token_urlsafe(8), secrets.token_urlsafe(8)
    pkce_args, verifier = client.add_code_challenge()
    assert pkce_args["code_challenge_method"] == "S256"
    request_args = {"client_id": client.client_id, "response_type": "code", "redirect_uri": REDIRECT,
                    "scope": ["openid", "profile", "email", "offline_access"], "state": state, "nonce": nonce,
                    **pkce_args, **extra}
    url = client.construct_AuthorizationRequest(request_args=request_args).request(client.authorization_endpoint)
    query = sign_in_with_requests(http, url, email, PASSWORD, "http://rp.example/")
    response = client.parse_response(AuthorizationResponse, info=urlencode({k: v[0] for k, v in query.items()}),
                                     sformat="urlencoded")
    return state, verifier, response


def test_discovery_code_pkce_userinfo_refresh_and_logout(rp, live_idp):
    client, email = rp
    http = requests.Session()
    state, verifier, response = authorize(client, http, email)
    assert response["state"] == state
    assert response["iss"] == live_idp.url  # RFC 9207

    tokens = client.do_access_token_request(
        state=state, request_args={"code": response["code"], "code_verifier": verifier, "redirect_uri": REDIRECT},
        authn_method="client_secret_basic")
    id_token = tokens["id_token"]  # verified by oic: signature against our JWKS, iss, aud, nonce, exp
    assert id_token["iss"] == live_idp.url and id_token["aud"] == [client.client_id]
    assert id_token["amr"] == ["pwd"] and id_token["auth_time"] <= id_token["iat"]
    assert id_token["sid"]

    userinfo = client.do_user_info_request(state=state)
    assert userinfo["sub"] == id_token["sub"]
    assert userinfo["email"] == email and userinfo["given_name"] == "Ada"

    refreshed = client.do_access_token_refresh(state=state, authn_method="client_secret_basic")
    assert refreshed["access_token"] != tokens["access_token"]
    assert refreshed["refresh_token"] != tokens["refresh_token"]

    logout_url = f"{client.provider_info['end_session_endpoint']}?" + urlencode({
        "id_token_hint": tokens["id_token"].jwt, "post_logout_redirect_uri": "http://rp.example/", "state": "bye"})
    response = http.get(logout_url, allow_redirects=False)
    assert response.status_code == 302
    assert response.headers["Location"] == "http://rp.example/?state=bye"
    # the session is over: a silent authorization now answers login_required
    silent = http.get(f"{live_idp.url}/authorize?" + urlencode({
        "response_type": "code", "client_id": client.client_id, "redirect_uri": REDIRECT, "scope": "openid",
        "state": "s2", "prompt": "none", "code_challenge": "x" * 43, "code_challenge_method": "S256"}),
        allow_redirects=False)
    assert parse_qs(urlsplit(silent.headers["Location"]).query)["error"] == ["login_required"]
    # and the refresh token of that session is revoked
    after = requests.post(f"{live_idp.url}/token", auth=(client.client_id, client.client_secret),
                          data={"grant_type": "refresh_token", "refresh_token": refreshed["refresh_token"]})
    assert after.status_code == 400 and after.json()["error"] == "invalid_grant"


def test_es256_client_gets_es256_id_tokens(live_idp):
    email = f"{uuid.uuid4().hex[:8]}@example.org"
    make_user(live_idp.app, email, PASSWORD)
    client_id, secret = make_client(live_idp.app, [REDIRECT], id_token_alg="ES256", first_party=True)
    client = Client(client_authn_method=CLIENT_AUTHN_METHOD, verify_ssl=False)
    client.provider_config(live_idp.url)
    client.store_registration_info(RegistrationResponse(client_id=client_id, client_secret=secret,
                                                        redirect_uris=[REDIRECT], id_token_signed_response_alg="ES256"))
    state, verifier, response = authorize(client, requests.Session(), email)
    tokens = client.do_access_token_request(
        state=state, request_args={"code": response["code"], "code_verifier": verifier, "redirect_uri": REDIRECT},
        authn_method="client_secret_post")
    assert tokens["id_token"].jws_header["alg"] == "ES256"
