"""A session's id is public, its cookie is not (outside review, session 2: the console showed each
session's id, and that id was the idp_sid cookie's value, so it signed the viewer in as the person).
The same id is the ``sid`` claim of every ID token, logout token and access token, so a relying
party — any registered client, a resource server, an introspection caller — held the means to take
over the person's IdP session and, through it, every portal. Now the cookie holds a secret whose
one-way digest is the id: the id opens nothing."""

from __future__ import annotations

import base64
import json
import secrets

import pytest
import requests

from tests.idp.helpers import code_after_sign_in, exchange_code_for_tests, make_client, make_user, start_idp

REDIRECT = "https://rp.example/callback"


def payload(token: str) -> dict:
    """A JWT's claims as the relying party reads them (its signature is not the point here)."""
    part = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))
PASSWORD = "Bonne-Passe-2026"


@pytest.fixture(scope="module")
def idp(tmp_path_factory):
    server = start_idp(f"sqlite:///{tmp_path_factory.mktemp('sid')}/idp.db")
    yield server
    server.stop()


def test_the_sid_a_relying_party_receives_opens_no_session(idp):
    email = f"sid-{secrets.token_hex(4)}@example.org"
    make_user(idp.app, email, PASSWORD)
    client_id, secret = make_client(idp.app, [REDIRECT], scope="openid email")
    code, verifier = code_after_sign_in(idp, client_id, REDIRECT, email, PASSWORD, "openid email")
    tokens = exchange_code_for_tests(idp.url, client_id, secret, code, verifier, REDIRECT)
    claims, access = payload(tokens["id_token"]), payload(tokens["access_token"])
    assert claims["sid"] and access.get("sid", claims["sid"]) == claims["sid"]

    thief = requests.Session()
    thief.cookies.set("idp_sid", claims["sid"])
    page = thief.get(f"{idp.url}/account", allow_redirects=False)
    assert page.status_code in (302, 303) and "/signin" in page.headers["Location"], page.status_code
    assert email not in page.text


# -- a code issued before its session ended or its service was withdrawn (outside review, session 2) --

def _code_and_browser(idp, client_id: str, email: str):
    from urllib.parse import urlencode

    from tests.idp.helpers import pkce, sign_in_with_requests

    http = requests.Session()
    verifier, challenge = pkce()
    callback = sign_in_with_requests(http, f"{idp.url}/authorize?" + urlencode({
        "response_type": "code", "client_id": client_id, "redirect_uri": REDIRECT, "state": "s",
        "scope": "openid email", "code_challenge": challenge, "code_challenge_method": "S256"}), email, PASSWORD,
        REDIRECT)
    return callback["code"][0], verifier, http


def _exchange(idp, client_id: str, secret: str, code: str, verifier: str) -> requests.Response:
    return requests.post(f"{idp.url}/token", data={"grant_type": "authorization_code", "code": code,
                                                   "redirect_uri": REDIRECT, "code_verifier": verifier},
                         auth=(client_id, secret), timeout=10)


@pytest.mark.parametrize("ended_by", ["sign-out elsewhere", "withdrawn service"])
def test_a_code_issued_before_the_end_gives_no_tokens(idp, ended_by):
    """A relying party (or whoever holds a code) keeps no refresh token through "close the other
    sessions", an operator's "end all sessions" or "withdraw this service"."""
    from idp.oidc import withdrawal
    from idp.services import sessions

    email = f"late-{secrets.token_hex(4)}@example.org"
    account = make_user(idp.app, email, PASSWORD)
    client_id, secret = make_client(idp.app, [REDIRECT], scope="openid email")
    code, verifier, browser = _code_and_browser(idp, client_id, email)
    with idp.app.app_context():
        if ended_by == "withdrawn service":
            withdrawal.withdraw(account.id, client_id)
        else:
            sessions.end_session(sessions.sid_of(browser.cookies["idp_sid"]))
    answer = _exchange(idp, client_id, secret, code, verifier)
    assert answer.status_code == 400 and answer.json()["error"] == "invalid_grant", answer.text

    fresh, fresh_verifier, _browser = _code_and_browser(idp, client_id, email)  # the next sign-in works
    assert _exchange(idp, client_id, secret, fresh, fresh_verifier).status_code == 200
