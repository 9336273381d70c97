"""acr_values (issue 19 §3): every advertised value ends in a code or a clear error, never in the
sign-in pages again and again."""

from __future__ import annotations

import base64
import json
from urllib.parse import parse_qs, urlencode, urlsplit

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
EMAIL, PASSWORD = "step@example.org", "Correct-Horse-1"


@pytest.fixture(scope="module")
def idp(tmp_path_factory):
    with idp_with_user(tmp_path_factory.mktemp('stepup'), EMAIL, PASSWORD) as server:
        yield server


@pytest.fixture(scope="module")
def client(idp):
    return make_client(idp.app, [REDIRECT], scope="openid profile", first_party=True)


def answer_for(idp, client, acr_values: str) -> tuple[dict, str]:
    verifier, challenge = pkce()
    url = f"{idp.url}/authorize?" + urlencode({
        "response_type": "code", "client_id": client[0], "redirect_uri": REDIRECT, "scope": "openid",
        "state": "s", "code_challenge": challenge, "code_challenge_method": "S256", "acr_values": acr_values})
    return sign_in_with_requests(requests.Session(), url, EMAIL, PASSWORD, REDIRECT), verifier


def acr_of(idp, client, params: dict, verifier: str) -> str | None:
    id_token = exchange_code_for_tests(idp.url, *client, params["code"][0], verifier, REDIRECT)["id_token"]
    payload = id_token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))).get("acr")


def test_pwd_is_given_by_a_password(idp, client):
    params, verifier = answer_for(idp, client, "pwd")
    assert acr_of(idp, client, params, verifier) == "pwd"


def test_mfa_without_a_second_factor_is_a_clear_error_not_a_loop(idp, client):
    params, _ = answer_for(idp, client, "mfa")
    assert params["error"] == ["unmet_authentication_requirements"] and params["state"] == ["s"]


def test_the_first_satisfied_value_is_stated(idp, client):
    params, verifier = answer_for(idp, client, "mfa pwd")
    assert acr_of(idp, client, params, verifier) == "pwd"


def test_an_eidas_level_goes_to_the_identity_providers(idp, client):
    verifier, challenge = pkce()
    page = requests.get(f"{idp.url}/authorize?" + urlencode({
        "response_type": "code", "client_id": client[0], "redirect_uri": REDIRECT, "scope": "openid",
        "state": "s", "code_challenge": challenge, "code_challenge_method": "S256", "acr_values": "eidas1"}))
    assert page.status_code == 200 and page.url.endswith("/providers")


@pytest.mark.parametrize("extra,error", [
    ({"request": "eyJhbGciOiJub25lIn0.e30."}, "request_not_supported"),
    ({"request_uri": "https://rp.example/request.jwt"}, "request_uri_not_supported"),
    ({"response_mode": "fragment"}, "unsupported_response_mode"),
    ({"response_mode": "query.jwt"}, "unsupported_response_mode"),
])
def test_unsupported_parameters_are_refused_not_ignored(idp, client, extra, error):
    """A signed request or another response mode silently ignored would leave the client
    believing it was honoured (form_post is supported: tests/idp/test_form_post.py)."""
    _verifier, challenge = pkce()
    answer = requests.get(f"{idp.url}/authorize", allow_redirects=False, params={
        "response_type": "code", "client_id": client[0], "redirect_uri": REDIRECT, "scope": "openid",
        "state": "s", "code_challenge": challenge, "code_challenge_method": "S256", **extra})
    assert answer.status_code == 302
    query = parse_qs(urlsplit(answer.headers["Location"]).query)
    assert query["error"] == [error] and query["state"] == ["s"]


def test_ui_locales_chooses_the_sign_in_pages_language(idp, client):
    _verifier, challenge = pkce()
    params = {"response_type": "code", "client_id": client[0], "redirect_uri": REDIRECT, "scope": "openid",
              "state": "s", "code_challenge": challenge, "code_challenge_method": "S256"}
    english = requests.get(f"{idp.url}/authorize", params={**params, "ui_locales": "en-GB fr"})
    assert english.status_code == 200 and 'lang="en"' in english.text
    french = requests.get(f"{idp.url}/authorize", params=params)
    assert 'lang="fr"' in french.text
    chosen = requests.Session()
    chosen.get(f"{idp.url}/lang/fr")  # the person's own choice wins over the client's wish
    assert 'lang="fr"' in chosen.get(f"{idp.url}/authorize", params={**params, "ui_locales": "en"}).text


def test_claims_without_a_value_are_omitted_not_null(idp, client):
    """Issue 19 §8: an account without names got "given_name": null (OIDC Core §5.3.2: omit)."""
    verifier, challenge = pkce()
    url = f"{idp.url}/authorize?" + urlencode({
        "response_type": "code", "client_id": client[0], "redirect_uri": REDIRECT, "scope": "openid profile",
        "state": "s", "code_challenge": challenge, "code_challenge_method": "S256"})
    params = sign_in_with_requests(requests.Session(), url, EMAIL, PASSWORD, REDIRECT)
    tokens = exchange_code_for_tests(idp.url, *client, params["code"][0], verifier, REDIRECT)
    info = requests.get(f"{idp.url}/userinfo", headers={"Authorization": f"Bearer {tokens['access_token']}"}).json()
    payload = tokens["id_token"].split(".")[1]
    id_claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    assert info["sub"] and None not in info.values() and None not in id_claims.values()
    assert "given_name" not in info


def test_a_narrower_refresh_still_returns_a_successor_with_the_grants_scope(idp):
    """Issue 19 §2: a refresh asking for `openid` only (no offline_access) spent the refresh token
    without a successor; the client's next refresh then looked like theft."""
    client = make_client(idp.app, [REDIRECT], scope="openid profile offline_access", first_party=True)
    verifier, challenge = pkce()
    url = f"{idp.url}/authorize?" + urlencode({
        "response_type": "code", "client_id": client[0], "redirect_uri": REDIRECT,
        "scope": "openid profile offline_access", "state": "s", "code_challenge": challenge,
        "code_challenge_method": "S256"})
    params = sign_in_with_requests(requests.Session(), url, EMAIL, PASSWORD, REDIRECT)
    refresh = exchange_code_for_tests(idp.url, *client, params["code"][0], verifier, REDIRECT)["refresh_token"]
    narrower = requests.post(f"{idp.url}/token", auth=client, data={
        "grant_type": "refresh_token", "refresh_token": refresh, "scope": "openid"}).json()
    assert narrower["scope"] == "openid" and narrower.get("refresh_token")
    full = requests.post(f"{idp.url}/token", auth=client, data={
        "grant_type": "refresh_token", "refresh_token": narrower["refresh_token"]})
    assert full.status_code == 200 and full.json()["scope"] == "openid profile offline_access"


def test_a_grant_below_the_clients_new_policy_is_not_refreshed(idp):
    """Outside review, session 2 (S5): a client switched to "second factor required" kept refreshing
    a password-only grant (ID tokens with amr ["pwd"]); the refresh now fails and the client signs the
    person in again, at the level it now requires."""
    from idp.services import clients

    client = make_client(idp.app, [REDIRECT], scope="openid profile offline_access", first_party=True)
    verifier, challenge = pkce()
    url = f"{idp.url}/authorize?" + urlencode({
        "response_type": "code", "client_id": client[0], "redirect_uri": REDIRECT,
        "scope": "openid profile offline_access", "state": "s", "code_challenge": challenge,
        "code_challenge_method": "S256"})
    params = sign_in_with_requests(requests.Session(), url, EMAIL, PASSWORD, REDIRECT)
    refresh = exchange_code_for_tests(idp.url, *client, params["code"][0], verifier, REDIRECT)["refresh_token"]
    with idp.app.app_context():
        clients.change(client[0], policy={"require_mfa": True})
    answer = requests.post(f"{idp.url}/token", auth=client, data={"grant_type": "refresh_token",
                                                                  "refresh_token": refresh})
    assert answer.status_code == 400 and answer.json()["error"] == "invalid_grant", answer.text
