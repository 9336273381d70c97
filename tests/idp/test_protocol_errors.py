"""Every refusal the protocol owes, each asserting the exact error (issue 2's negative cases)."""

from __future__ import annotations

import hashlib
import time
import uuid
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
import requests
from flask import Flask, request

from shared.tokens import ProviderMetadata, verify_logout_token
from tests.idp.helpers import (
    make_client,
    make_user,
    past_the_reuse_grace,
    pkce,
    sign_in_with_requests,
    start_idp,
)
from tests.servers import LiveServer, free_port

REDIRECT = "http://rp.example/callback"
PASSWORD = "Correct-Horse-7"


@pytest.fixture
def setup(live_idp):
    email = f"{uuid.uuid4().hex[:8]}@example.org"
    make_user(live_idp.app, email, PASSWORD)
    client_id, secret = make_client(live_idp.app, [REDIRECT], first_party=True,
                                    scope="openid profile email offline_access")
    return live_idp, email, client_id, secret


def auth_url(idp, client_id, challenge=None, method="S256", **extra):
    params = {"response_type": "code", "client_id": client_id, "redirect_uri": REDIRECT,
              "scope": "openid offline_access", "state": "st-1", "nonce": "n-1", **extra}
    if challenge:
        params.update(code_challenge=challenge, code_challenge_method=method)
    return f"{idp.url}/authorize?{urlencode(params)}"


def redirect_query(response) -> dict:
    assert response.status_code == 302, response.text[:300]
    location = response.headers["Location"]
    assert location.startswith(REDIRECT)
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


def get_code(idp, email, client_id, **extra):
    verifier, challenge = pkce()
    query = sign_in_with_requests(requests.Session(), auth_url(idp, client_id, challenge, **extra), email, PASSWORD,
                                  "http://rp.example/")
    return query["code"][0], verifier


def exchange(idp, client_id, secret, code, verifier):
    return requests.post(f"{idp.url}/token", auth=(client_id, secret), data={
        "grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT, "code_verifier": verifier})


def test_unregistered_redirect_uri_gets_a_page_never_a_redirect(setup):
    idp, _email, client_id, _secret = setup
    _verifier, challenge = pkce()
    for redirect_uri in ("http://evil.example/callback", REDIRECT + "/", REDIRECT + "?x=1"):
        response = requests.get(auth_url(idp, client_id, challenge, redirect_uri=redirect_uri), allow_redirects=False)
        assert response.status_code == 400
        assert "Location" not in response.headers
        assert "Demande de connexion invalide" in response.text


def test_unknown_client_gets_a_page(setup):
    idp = setup[0]
    response = requests.get(auth_url(idp, "nobody", "x" * 43), allow_redirects=False)
    assert response.status_code == 400 and "Location" not in response.headers


def test_missing_pkce_is_refused_with_iss(setup):
    idp, _email, client_id, _secret = setup
    query = redirect_query(requests.get(auth_url(idp, client_id), allow_redirects=False))
    assert query["error"] == "invalid_request" and "PKCE" in query["error_description"]
    assert query["state"] == "st-1" and query["iss"] == idp.url


def test_plain_pkce_is_refused(setup):
    idp, _email, client_id, _secret = setup
    verifier = "v" * 50
    query = redirect_query(requests.get(auth_url(idp, client_id, verifier, method="plain"), allow_redirects=False))
    assert query["error"] == "invalid_request"


def test_client_registered_without_pkce_may_omit_it(live_idp):
    email = f"{uuid.uuid4().hex[:8]}@example.org"
    make_user(live_idp.app, email, PASSWORD)
    client_id, secret = make_client(live_idp.app, [REDIRECT], require_pkce=False, first_party=True)
    query = sign_in_with_requests(requests.Session(), auth_url(live_idp, client_id), email, PASSWORD, "http://rp.example/")
    response = requests.post(f"{live_idp.url}/token", data={"grant_type": "authorization_code", "code": query["code"][0],
                                                             "redirect_uri": REDIRECT, "client_id": client_id,
                                                             "client_secret": secret})
    assert response.status_code == 200 and "id_token" in response.json()


def test_wrong_code_verifier_is_refused(setup):
    idp, email, client_id, secret = setup
    code, _verifier = get_code(idp, email, client_id)
    response = exchange(idp, client_id, secret, code, "w" * 50)
    assert response.status_code == 400 and response.json()["error"] == "invalid_grant"


def test_replayed_code_is_refused_and_its_tokens_revoked(setup):
    idp, email, client_id, secret = setup
    code, verifier = get_code(idp, email, client_id)
    first = exchange(idp, client_id, secret, code, verifier)
    assert first.status_code == 200
    tokens = first.json()
    bearer = {"Authorization": f"Bearer {tokens['access_token']}"}
    assert requests.get(f"{idp.url}/userinfo", headers=bearer).status_code == 200

    replay = exchange(idp, client_id, secret, code, verifier)
    assert replay.status_code == 400 and replay.json()["error"] == "invalid_grant"
    assert requests.get(f"{idp.url}/userinfo", headers=bearer).status_code == 401
    refresh = requests.post(f"{idp.url}/token", auth=(client_id, secret),
                            data={"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]})
    assert refresh.status_code == 400 and refresh.json()["error"] == "invalid_grant"


def test_reused_refresh_token_revokes_the_family(setup):
    idp, email, client_id, secret = setup
    code, verifier = get_code(idp, email, client_id)
    tokens = exchange(idp, client_id, secret, code, verifier).json()

    def refresh(token):
        return requests.post(f"{idp.url}/token", auth=(client_id, secret),
                             data={"grant_type": "refresh_token", "refresh_token": token})

    rotated = refresh(tokens["refresh_token"])
    assert rotated.status_code == 200
    newer = rotated.json()
    past_the_reuse_grace(idp.app, tokens["refresh_token"])
    assert refresh(tokens["refresh_token"]).json()["error"] == "invalid_grant"  # reuse of the old one
    assert refresh(newer["refresh_token"]).json()["error"] == "invalid_grant"  # the whole family is gone
    assert requests.get(f"{idp.url}/userinfo",
                        headers={"Authorization": f"Bearer {newer['access_token']}"}).status_code == 401


def test_wrong_client_secret_and_foreign_code_are_refused(setup, live_idp):
    idp, email, client_id, secret = setup
    other_id, other_secret = make_client(live_idp.app, [REDIRECT], first_party=True)
    code, verifier = get_code(idp, email, client_id)
    assert exchange(idp, client_id, "wrong", code, verifier).json()["error"] == "invalid_client"
    assert exchange(idp, other_id, other_secret, code, verifier).json()["error"] == "invalid_grant"
    assert exchange(idp, client_id, secret, code, verifier).status_code == 200  # the refusals spent nothing


def test_expired_code_is_refused(tmp_path):
    idp = start_idp(f"sqlite:///{tmp_path}/idp.db", raw={"lifetimes": {"authorization_code": 1}})
    try:
        make_user(idp.app, "late@example.org", PASSWORD)
        client_id, secret = make_client(idp.app, [REDIRECT], first_party=True)
        code, verifier = get_code(idp, "late@example.org", client_id)
        deadline = time.monotonic() + 5
        while idp.app.extensions["redis"].keys("idp:code:*") and time.monotonic() < deadline:
            time.sleep(0.1)  # waiting for Redis to expire the code, polled: not a fixed sleep
        response = exchange(idp, client_id, secret, code, verifier)
        assert response.status_code == 400 and response.json()["error"] == "invalid_grant"
    finally:
        idp.stop()


def test_pairwise_subjects_differ_per_client(live_idp):
    email = f"{uuid.uuid4().hex[:8]}@example.org"
    account_id = make_user(live_idp.app, email, PASSWORD).id
    subs = []
    http = requests.Session()  # one browser: the second client is reached by single sign-on
    for _ in range(2):
        client_id, secret = make_client(live_idp.app, [REDIRECT], first_party=True)
        verifier, challenge = pkce()
        query = sign_in_with_requests(http, auth_url(live_idp, client_id, challenge), email, PASSWORD,
                                      "http://rp.example/")
        access = exchange(live_idp, client_id, secret, query["code"][0], verifier).json()["access_token"]
        sub = requests.get(f"{live_idp.url}/userinfo", headers={"Authorization": f"Bearer {access}"}).json()["sub"]
        # colluding portals cannot link or recompute it: keyed with the IdP's secret, not a bare hash
        guessable = {account_id, hashlib.sha256(f"{client_id}|{account_id}".encode()).hexdigest(),
                     hashlib.sha256(f"{account_id}|{client_id}".encode()).hexdigest()}
        assert sub not in guessable
        subs.append(sub)
    assert subs[0] != subs[1]


def test_prompt_none_without_session_answers_login_required(setup):
    idp, _email, client_id, _secret = setup
    _verifier, challenge = pkce()
    query = redirect_query(requests.get(auth_url(idp, client_id, challenge, prompt="none"), allow_redirects=False))
    assert query["error"] == "login_required" and query["iss"] == idp.url


def test_identifier_step_does_not_tell_whether_an_account_exists(setup):
    idp, email, client_id, _secret = setup
    _verifier, challenge = pkce()
    pages = []
    for identifier in (email, "nobody-here@example.org"):
        http = requests.Session()
        from tests.idp.helpers import submit_sign_in

        page = http.get(auth_url(idp, client_id, challenge))
        response = submit_sign_in(http, page, identifier, "Wrong-Passw0rd")
        pages.append((response.status_code, response.text.replace(identifier, "<id>")))
    assert pages[0][0] == pages[1][0] == 400
    assert "Identifiant ou mot de passe incorrect." in pages[0][1]
    strip = lambda html: "\n".join(line for line in html.splitlines() if "csrf_token" not in line and "interaction" not in line)  # noqa: E731
    assert strip(pages[0][1]) == strip(pages[1][1])


def test_backchannel_logout_reaches_the_rp_with_a_valid_token(embedded_idp):
    received = []
    rp_port = free_port()
    rp_app = Flask("rp")

    @rp_app.post("/bcl")
    def bcl():
        received.append(request.form["logout_token"])
        return "", 200

    rp = LiveServer(rp_app, rp_port).start()
    try:
        email = f"{uuid.uuid4().hex[:8]}@example.org"
        make_user(embedded_idp.app, email, PASSWORD)
        client_id, secret = make_client(embedded_idp.app, [REDIRECT], first_party=True,
                                        backchannel_logout_uri=f"http://127.0.0.1:{rp_port}/bcl",
                                        post_logout_redirect_uris=["http://rp.example/"])
        http = requests.Session()
        verifier, challenge = pkce()
        query = sign_in_with_requests(http, auth_url(embedded_idp, client_id, challenge), email, PASSWORD,
                                      "http://rp.example/")
        id_token = exchange(embedded_idp, client_id, secret, query["code"][0], verifier).json()["id_token"]
        http.get(f"{embedded_idp.url}/logout?" + urlencode({"id_token_hint": id_token,
                                                            "post_logout_redirect_uri": "http://rp.example/"}),
                 allow_redirects=False)
        assert received, "the logout answered before telling the RP"
        claims = verify_logout_token(received[0], ProviderMetadata(embedded_idp.url), client_id)
        from shared.tokens import unverified_claims

        assert claims["sid"] == unverified_claims(id_token)["sid"]
    finally:
        rp.stop()


def test_post_logout_redirect_must_be_registered(setup):
    idp = setup[0]
    response = requests.get(f"{idp.url}/logout?" + urlencode({"post_logout_redirect_uri": "http://evil.example/"}),
                            allow_redirects=False)
    assert response.status_code == 400 and "Location" not in response.headers


def test_an_rp_down_during_logout_gets_it_when_it_is_back(embedded_idp):
    received = []
    rp_port = free_port()
    email = f"{uuid.uuid4().hex[:8]}@example.org"
    make_user(embedded_idp.app, email, PASSWORD)
    client_id, secret = make_client(embedded_idp.app, [REDIRECT], first_party=True,
                                    backchannel_logout_uri=f"http://127.0.0.1:{rp_port}/bcl",
                                    post_logout_redirect_uris=["http://rp.example/"])
    http = requests.Session()
    verifier, challenge = pkce()
    query = sign_in_with_requests(http, auth_url(embedded_idp, client_id, challenge), email, PASSWORD,
                                  "http://rp.example/")
    id_token = exchange(embedded_idp, client_id, secret, query["code"][0], verifier).json()["id_token"]
    answer = http.get(f"{embedded_idp.url}/logout?" + urlencode({"id_token_hint": id_token,
                                                                  "post_logout_redirect_uri": "http://rp.example/"}),
                      allow_redirects=False)
    assert answer.status_code in (302, 303), "a portal that is down does not block the logout"
    rp_app = Flask("rp-late")

    @rp_app.post("/bcl")
    def bcl():
        received.append(request.form["logout_token"])
        return "", 200

    rp = LiveServer(rp_app, rp_port).start()  # the portal comes back
    try:
        deadline = time.monotonic() + 15  # the retry queue's backoff: 1 s, then 2 s, 4 s…
        while not received and time.monotonic() < deadline:
            time.sleep(0.1)
        assert len(received) == 1, "the logout reaches the portal once it is back, exactly once"
        claims = verify_logout_token(received[0], ProviderMetadata(embedded_idp.url), client_id)
        from shared.tokens import unverified_claims

        assert claims["sid"] == unverified_claims(id_token)["sid"]
    finally:
        rp.stop()
