"""Threats on the flows between the browser and the IdP (docs/threat-model.md, "Whose browser"):
an attacker with his own account and his own registered (third-party) client makes a victim's
browser open a link, or replays a token where another one is expected.
"""

from __future__ import annotations

from urllib.parse import parse_qs, urlencode, urljoin, urlsplit

import pytest
import requests

from tests.idp.helpers import csrf_token, exchange_code_for_tests, make_client, make_user, pkce, start_idp

REDIRECT = "http://rp.attacker.example/callback"
HOME = "http://rp.attacker.example/"
ATTACKER, VICTIM, PASSWORD = "mallory@example.org", "alice@example.org", "Correct-Horse-1"


@pytest.fixture(scope="module")
def idp(tmp_path_factory):
    server = start_idp(f"sqlite:///{tmp_path_factory.mktemp('binding') / 'idp.db'}", raw={"outbox": {"manual": True}})
    make_user(server.app, ATTACKER, PASSWORD)
    make_user(server.app, VICTIM, PASSWORD)
    yield server
    server.stop()


@pytest.fixture(scope="module")
def third_party(idp):
    """The attacker's own client: not first party, so consent is asked."""
    return make_client(idp.app, [REDIRECT], post_logout_redirect_uris=[HOME],
                       scope="openid profile email offline_access")


def authorize(idp, client_id: str, scope: str = "openid profile", **extra) -> tuple[str, str]:
    verifier, challenge = pkce()
    url = f"{idp.url}/authorize?" + urlencode({
        "response_type": "code", "client_id": client_id, "redirect_uri": REDIRECT, "scope": scope, "state": "s",
        "code_challenge": challenge, "code_challenge_method": "S256", **extra})
    return url, verifier


def signed_in_browser(idp, email: str) -> requests.Session:
    http = requests.Session()
    page = http.get(f"{idp.url}/signin?next=/account")
    page = http.post(page.url, data={"csrf_token": csrf_token(page.text), "identifier": email})
    page = http.post(page.url, data={"csrf_token": csrf_token(page.text), "password": PASSWORD})
    assert page.url.endswith("/account")
    return http


def walk(http: requests.Session, response: requests.Response) -> requests.Response:
    """Follow the IdP's own redirects; stop at a page or at the redirect to the client."""
    while response.status_code in (301, 302, 303):
        location = urljoin(response.url, response.headers["Location"])
        if location.startswith(REDIRECT):
            response.headers["Location"] = location
            return response
        response = http.get(location, allow_redirects=False)
    return response


def test_consent_bypass_the_attackers_resume_link_gives_nothing_in_the_victims_browser(idp, third_party):
    """Finding 4: the attacker consents in his own interaction, then sends the victim (signed in at
    the IdP) to its resume URL. No code for his client, no fresh authentication borrowed."""
    attacker = signed_in_browser(idp, ATTACKER)
    url, _verifier = authorize(idp, third_party[0], "openid profile email offline_access", prompt="login")
    page = walk(attacker, attacker.get(url, allow_redirects=False))  # prompt=login: the sign-in pages
    page = attacker.post(page.url, data={"csrf_token": csrf_token(page.text), "identifier": ATTACKER})
    page = walk(attacker, attacker.post(page.url, data={"csrf_token": csrf_token(page.text), "password": PASSWORD},
                                        allow_redirects=False))
    assert "/consent" in page.url
    allowed = attacker.post(page.url, data={"csrf_token": csrf_token(page.text), "decision": "allow"},
                            allow_redirects=False)
    resume = urljoin(page.url, allowed.headers["Location"])
    assert "/authorize/resume/" in resume

    victim = signed_in_browser(idp, VICTIM)
    answer = victim.get(resume, allow_redirects=False)
    assert answer.status_code == 400
    assert not answer.headers.get("Location", "").startswith(REDIRECT)
    # the attacker's own browser still finishes his own interaction
    assert walk(attacker, attacker.get(resume, allow_redirects=False)).headers["Location"].startswith(REDIRECT)


def test_an_interaction_page_is_not_found_from_another_browser(idp, third_party):
    url, _ = authorize(idp, third_party[0])
    starter = requests.Session()
    page = starter.get(url)
    assert "/interaction/" in page.url
    stranger = requests.get(page.url, allow_redirects=False)
    assert stranger.status_code == 404


def test_consent_covers_the_scopes_shown_and_nothing_more(idp, third_party):
    """Finding 7: after consenting to openid profile, a silent request for email and a refresh
    token gets consent_required, and an interactive one shows the consent page again."""
    http = signed_in_browser(idp, VICTIM)
    url, verifier = authorize(idp, third_party[0], "openid profile")
    page = walk(http, http.get(url, allow_redirects=False))
    assert "/consent" in page.url and "profile" in page.text
    done = walk(http, http.post(page.url, data={"csrf_token": csrf_token(page.text), "decision": "allow"},
                                allow_redirects=False))
    code = parse_qs(urlsplit(done.headers["Location"]).query)["code"][0]
    assert exchange_code_for_tests(idp.url, *third_party, code, verifier, REDIRECT)["scope"] == "openid profile"

    silent, _ = authorize(idp, third_party[0], "openid profile email offline_access", prompt="none")
    answer = walk(http, http.get(silent, allow_redirects=False))
    assert parse_qs(urlsplit(answer.headers["Location"]).query)["error"] == ["consent_required"]
    again, _ = authorize(idp, third_party[0], "openid profile email offline_access")
    assert "/consent" in walk(http, http.get(again, allow_redirects=False)).url
    same, _ = authorize(idp, third_party[0], "openid profile", prompt="none")
    assert "code" in parse_qs(urlsplit(walk(http, http.get(same, allow_redirects=False)).headers["Location"]).query)


def client_credentials_token(idp) -> str:
    client_id, secret = make_client(idp.app, [REDIRECT], grant_types=["authorization_code", "client_credentials"],
                                    scope="openid")
    return requests.post(f"{idp.url}/token", data={"grant_type": "client_credentials"},
                         auth=(client_id, secret)).json()["access_token"]


def test_an_access_token_is_no_id_token_hint(idp, third_party):
    """Finding 6: any client's client-credentials token, presented as id_token_hint, signed a
    visitor out of everything without a question."""
    victim = signed_in_browser(idp, VICTIM)
    answer = victim.get(f"{idp.url}/logout", params={"id_token_hint": client_credentials_token(idp)},
                        allow_redirects=False)
    assert answer.status_code == 400
    assert victim.get(f"{idp.url}/account", allow_redirects=False).status_code == 200, "still signed in"


def id_token_and_access_token(idp, http, client) -> dict:
    url, verifier = authorize(idp, client[0], "openid profile")
    answer = walk(http, http.get(url, allow_redirects=False))
    if answer.status_code == 200:  # consent page
        answer = walk(http, http.post(answer.url, data={"csrf_token": csrf_token(answer.text), "decision": "allow"},
                                      allow_redirects=False))
    code = parse_qs(urlsplit(answer.headers["Location"]).query)["code"][0]
    return exchange_code_for_tests(idp.url, *client, code, verifier, REDIRECT)


def test_another_sessions_id_token_asks_before_signing_out(idp, third_party):
    mine = signed_in_browser(idp, VICTIM)
    theirs = id_token_and_access_token(idp, signed_in_browser(idp, VICTIM), third_party)["id_token"]
    answer = mine.get(f"{idp.url}/logout", params={"id_token_hint": theirs}, allow_redirects=False)
    assert answer.status_code == 200 and 'name="confirm"' in answer.text
    assert mine.get(f"{idp.url}/account", allow_redirects=False).status_code == 200


def test_signing_out_ends_every_access_token_of_the_session(idp, third_party):
    """Finding 8: an access token of a session without refresh token kept working at /userinfo
    for its whole lifetime after sign-out."""
    http = signed_in_browser(idp, VICTIM)
    tokens = id_token_and_access_token(idp, http, third_party)
    assert "refresh_token" not in tokens
    bearer = {"Authorization": f"Bearer {tokens['access_token']}"}
    assert requests.get(f"{idp.url}/userinfo", headers=bearer).status_code == 200
    out = http.get(f"{idp.url}/logout", params={"id_token_hint": tokens["id_token"]}, allow_redirects=False)
    assert out.status_code == 302
    assert requests.get(f"{idp.url}/userinfo", headers=bearer).status_code == 401


def test_a_consent_page_left_open_decides_nothing_for_another_account(idp, third_party):
    """Outside review: tab 1 shows the consent page to account A; tab 2 signs in as B in the same
    browser; tab 1's Autoriser must not give B's data (nor record B's consent)."""
    client = make_client(idp.app, [REDIRECT], scope="openid profile email")  # consented by no one yet
    http = signed_in_browser(idp, ATTACKER)
    url, _ = authorize(idp, client[0], "openid profile email")
    page = walk(http, http.get(url, allow_redirects=False))
    assert "/consent" in page.url and ATTACKER in page.text
    tab2 = walk(http, http.get(authorize(idp, client[0], "openid", prompt="login")[0], allow_redirects=False))
    tab2 = http.post(tab2.url, data={"csrf_token": csrf_token(tab2.text), "identifier": VICTIM})
    http.post(tab2.url, data={"csrf_token": csrf_token(tab2.text), "password": PASSWORD}, allow_redirects=False)
    # the page was asked for by A's session: B's Autoriser goes back through the authorization
    answer = walk(http, http.post(page.url, data={"csrf_token": csrf_token(page.text), "decision": "allow"},
                                  allow_redirects=False))
    assert "/consent" in answer.url and VICTIM in answer.text, "asked again, naming the account now signed in"
    silent = walk(http, http.get(authorize(idp, client[0], "openid profile email", prompt="none")[0],
                                 allow_redirects=False))
    assert parse_qs(urlsplit(silent.headers["Location"]).query)["error"] == ["consent_required"]
