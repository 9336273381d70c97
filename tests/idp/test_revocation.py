"""Token revocation (RFC 7009, issue 19 §6): a client revokes its own refresh or access token;
the grant goes with it; another client's token is refused; unknown tokens answer 200."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest
import requests

from tests.idp.helpers import (
    exchange_code_for_tests,
    idp_with_user,
    make_client,
    pkce,
    sign_in_with_requests,
)

REDIRECT = "http://rp.example/callback"
EMAIL, PASSWORD = "revoke@example.org", "Correct-Horse-1"


@pytest.fixture(scope="module")
def idp(tmp_path_factory):
    with idp_with_user(tmp_path_factory.mktemp('revoke'), EMAIL, PASSWORD) as server:
        yield server


def tokens_for(idp, client) -> dict:
    verifier, challenge = pkce()
    url = f"{idp.url}/authorize?" + urlencode({
        "response_type": "code", "client_id": client[0], "redirect_uri": REDIRECT,
        "scope": "openid offline_access", "state": "s", "code_challenge": challenge, "code_challenge_method": "S256"})
    params = sign_in_with_requests(requests.Session(), url, EMAIL, PASSWORD, REDIRECT)
    return exchange_code_for_tests(idp.url, *client, params["code"][0], verifier, REDIRECT)


def userinfo(idp, access_token: str) -> int:
    return requests.get(f"{idp.url}/userinfo", headers={"Authorization": f"Bearer {access_token}"}).status_code


def test_revoking_the_refresh_token_ends_the_grant(idp):
    client = make_client(idp.app, [REDIRECT], scope="openid offline_access", first_party=True)
    issued = tokens_for(idp, client)
    assert "revocation_endpoint" in requests.get(f"{idp.url}/.well-known/openid-configuration").json()
    answer = requests.post(f"{idp.url}/revoke", auth=client,
                           data={"token": issued["refresh_token"], "token_type_hint": "refresh_token"})
    assert answer.status_code == 200
    refreshed = requests.post(f"{idp.url}/token", auth=client,
                              data={"grant_type": "refresh_token", "refresh_token": issued["refresh_token"]})
    assert refreshed.status_code == 400
    assert userinfo(idp, issued["access_token"]) == 401  # the grant's access token went with it


def test_revoking_an_access_token(idp):
    client = make_client(idp.app, [REDIRECT], scope="openid offline_access", first_party=True)
    issued = tokens_for(idp, client)
    assert userinfo(idp, issued["access_token"]) == 200
    assert requests.post(f"{idp.url}/revoke", auth=client, data={"token": issued["access_token"]}).status_code == 200
    assert userinfo(idp, issued["access_token"]) == 401


def test_another_clients_token_is_not_revoked_and_unknown_tokens_answer_200(idp):
    owner = make_client(idp.app, [REDIRECT], scope="openid offline_access", first_party=True)
    other = make_client(idp.app, [REDIRECT], scope="openid offline_access", first_party=True)
    issued = tokens_for(idp, owner)
    refused = requests.post(f"{idp.url}/revoke", auth=other, data={"token": issued["refresh_token"]})
    assert refused.status_code == 400
    assert requests.post(f"{idp.url}/token", auth=owner, data={
        "grant_type": "refresh_token", "refresh_token": issued["refresh_token"]}).status_code == 200
    assert requests.post(f"{idp.url}/revoke", auth=owner, data={"token": "never-issued"}).status_code == 200
    assert requests.post(f"{idp.url}/revoke", auth=(owner[0], "wrong"), data={"token": "x"}).status_code == 401


def test_the_bearer_scheme_is_case_insensitive(idp):
    """Outside review: `Authorization: bearer …` was refused (RFC 7235 §2.1: case-insensitive)."""
    client = make_client(idp.app, [REDIRECT], scope="openid offline_access", first_party=True)
    token = tokens_for(idp, client)["access_token"]
    assert requests.get(f"{idp.url}/userinfo", headers={"Authorization": f"bearer {token}"}).status_code == 200
