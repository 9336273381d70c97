"""The consent page comes after every post-login step (docs/threat-model.md, S10): a browser that
typed /interaction/<id>/consent while its sign-in stood at the second factor a client requires
is sent back to that step, and nothing is recorded."""

from __future__ import annotations

import secrets
import time
from urllib.parse import parse_qs, urlencode, urljoin, urlsplit

import pyotp
import pytest
import requests

from tests.idp.helpers import csrf_token, make_client, make_user, pkce, start_idp

REDIRECT = "http://rp.example/callback"
PASSWORD = "Correct-Horse-1"


@pytest.fixture(scope="module")
def idp(tmp_path_factory):
    server = start_idp(f"sqlite:///{tmp_path_factory.mktemp('consent') / 'idp.db'}", raw={"outbox": {"manual": True}})
    yield server
    server.stop()


@pytest.fixture(scope="module")
def client(idp):
    """A third-party client (consent asked) that requires a second factor."""
    return make_client(idp.app, [REDIRECT], name="Service tiers", scope="openid profile",
                       policy={"require_mfa": True})


def account(idp, with_totp: bool) -> tuple[str, str | None]:
    from idp.services import mfa

    email = f"consent-{secrets.token_hex(4)}@example.org"
    created = make_user(idp.app, email, PASSWORD)
    secret = pyotp.random_base32() if with_totp else None
    if secret:
        with idp.app.app_context():
            mfa.enable_on_the_server(created.id, secret)
    return email, secret


def consented(idp, email: str, client_id: str) -> bool:
    from idp.services import accounts, clients, consents

    with idp.app.app_context():
        return consents.has_consent(accounts.find_by_identifier(email).id, clients.get(client_id), ["openid"])


def password_step(idp, client_id: str, email: str) -> tuple[requests.Session, requests.Response]:
    """Up to the page that follows the password: the sign-in's second-factor step."""
    http = requests.Session()
    _verifier, challenge = pkce()
    page = http.get(f"{idp.url}/authorize?" + urlencode({
        "response_type": "code", "client_id": client_id, "redirect_uri": REDIRECT, "scope": "openid profile",
        "state": "s", "code_challenge": challenge, "code_challenge_method": "S256"}))
    page = http.post(page.url, data={"csrf_token": csrf_token(page.text), "identifier": email})
    return http, http.post(page.url, data={"csrf_token": csrf_token(page.text), "password": PASSWORD})


def consent_url(step_page: requests.Response) -> str:
    uid = urlsplit(step_page.url).path.split("/")[2]
    return urljoin(step_page.url, f"/interaction/{uid}/consent")


def try_consent_early(http: requests.Session, step_page: requests.Response) -> tuple[requests.Response, requests.Response]:
    url = consent_url(step_page)
    shown = http.get(url, allow_redirects=False)
    allowed = http.post(url, data={"csrf_token": csrf_token(step_page.text), "decision": "allow"},
                        allow_redirects=False)
    return shown, allowed


def walk(http: requests.Session, response: requests.Response) -> requests.Response:
    """Follow the IdP's own redirects; stop at a page or at the redirect to the client."""
    while response.status_code in (301, 302, 303):
        location = urljoin(response.url, response.headers["Location"])
        if location.startswith(REDIRECT):
            response.headers["Location"] = location
            return response
        response = http.get(location, allow_redirects=False)
    return response


def test_no_consent_before_the_code_then_consent_after_it(idp, client):
    email, secret = account(idp, with_totp=True)
    http, step = password_step(idp, client[0], email)
    assert step.url.endswith("/totp") and step.status_code == 200

    shown, allowed = try_consent_early(http, step)
    assert shown.status_code == 302 and allowed.status_code == 302
    assert "Autoriser" not in shown.text
    assert walk(http, shown).url == step.url, "back to the second-factor step"
    assert walk(http, allowed).url == step.url
    assert not consented(idp, email, client[0]), "nothing recorded before the second factor"

    code = pyotp.TOTP(secret).at(time.time() + 30)  # a step the account never used
    page = walk(http, http.post(step.url, data={"csrf_token": csrf_token(step.text), "code": code},
                                allow_redirects=False))
    assert page.status_code == 200 and page.url == consent_url(step) and "Service tiers" in page.text
    answer = walk(http, http.post(page.url, data={"csrf_token": csrf_token(page.text), "decision": "allow"},
                                  allow_redirects=False))
    assert parse_qs(urlsplit(answer.headers["Location"]).query)["code"]
    assert consented(idp, email, client[0])
    services = http.get(f"{idp.url}/account")
    assert services.status_code == 200 and "Service tiers" in services.text


def test_no_consent_before_a_first_factor_is_bound(idp, client):
    email, _ = account(idp, with_totp=False)
    http, step = password_step(idp, client[0], email)
    assert "/confirm-address/totp" in step.url and step.status_code == 200

    shown, allowed = try_consent_early(http, step)
    assert shown.status_code == 302 and allowed.status_code == 302
    assert walk(http, allowed).url == step.url
    assert not consented(idp, email, client[0])

