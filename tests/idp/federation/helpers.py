"""Test helpers for federation: live sandbox providers and a tiny form-following browser."""

from __future__ import annotations

import secrets
from contextlib import contextmanager
from html.parser import HTMLParser
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit

import requests

from idp.upstream.sandbox import create_sandbox_app
from shared.tokens import ProviderMetadata, verify_id_token
from tests.idp.helpers import follow_until_redirect_to, pkce
from tests.servers import LiveServer, free_port

REDIRECT = "http://justice.example/callback"
RP_HOME = "http://justice.example/"
# Someone else who happens to use Paul Martin's email address at ameli.
NAMESAKE = {"login": "1111111111111", "password": "Namesake-1", "sub": "ameli-namesake",
            "claims": {"given_name": "Pauline", "family_name": "MARTINEZ", "birthdate": "1985-03-02",
                       "gender": "female", "birthplace": "33063", "birthcountry": "99100",
                       "email": "paul.martin@example.fr", "email_verified": True}}
# A client secret with the characters RFC 6749 §2.3.1 makes the client form-urlencode before Basic
# (every kind of VSCHAR, RFC 6749 Appendix A, node-oidc-provider's rule for a secret).
RESERVED_SECRET = "n0de:s3cret+%2F with space&=?/#"
LEVELS = {"impots": ["eidas1"], "ameli": ["eidas1"], "laposte": ["eidas1", "eidas2"], "nodeop": ["eidas1", "eidas2"]}


class _Forms(HTMLParser):
    def __init__(self):
        super().__init__()
        self.forms: list[dict] = []
        self._current: dict | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self._current = {"action": a.get("action") or "", "method": (a.get("method") or "get").lower(),
                             "fields": {}, "buttons": []}
            self.forms.append(self._current)
        elif self._current is not None and tag == "input" and a.get("name"):
            if a.get("type") in ("checkbox", "radio") and "checked" not in a:
                return
            self._current["fields"][a["name"]] = a.get("value") or ""
        elif self._current is not None and tag == "button" and a.get("name"):
            self._current["buttons"].append((a["name"], a.get("value") or ""))

    def handle_endtag(self, tag):
        if tag == "form":
            self._current = None


def forms(html: str) -> list[dict]:
    parser = _Forms()
    parser.feed(html)
    return parser.forms


class Browser:
    """A requests session that submits forms the way a person would (hidden fields included)."""

    def __init__(self):
        self.http = requests.Session()

    def get(self, url, **kw):
        return self.http.get(url, **kw)

    def submit(self, response, data: dict | None = None, action_contains: str = "", button: tuple | None = None,
               follow: bool = True):
        candidates = [f for f in forms(response.text) if action_contains in f["action"] and f["method"] == "post"]
        assert candidates, f"no POST form with action containing {action_contains!r} on {response.url}"
        form = candidates[0]
        payload = dict(form["fields"])
        if button:
            payload[button[0]] = button[1]
        payload.update(data or {})
        return self.http.post(urljoin(response.url, form["action"]), data=payload, allow_redirects=follow)


def query(url: str) -> dict:
    return dict(parse_qsl(urlsplit(url).query))


@contextmanager
def live_sandbox(name: str, **kwargs):
    port = free_port()
    app = create_sandbox_app(name, issuer=f"http://127.0.0.1:{port}", **kwargs)
    server = LiveServer(app, port).start()
    try:
        yield app, server.url
    finally:
        server.stop()


def authorize_url(fed, acr_values=None, client=None, **extra):
    verifier, challenge = pkce()
    params = {"response_type": "code", "client_id": (client or fed["client"])[0], "redirect_uri": REDIRECT,
              "scope": "openid profile email birth", "state": secrets.token_urlsafe(8),
              "nonce": secrets.token_urlsafe(8), "code_challenge": challenge, "code_challenge_method": "S256"}
    if acr_values:
        params["acr_values"] = acr_values
    params.update(extra)
    return f"{fed['idp'].url}/authorize?{urlencode(params)}", params, verifier


def choose_provider(browser, fed, provider, acr_values=None, client=None):
    """From the portal's authorization request to the upstream provider's sign-in page.

    A client that does not require federation shows the IdP's own sign-in page first: its
    "Se connecter avec FranceConnect" link leads to the provider choice."""
    url, params, verifier = authorize_url(fed, acr_values, client)
    choice = browser.get(url)
    if "/providers" not in choice.url and "/interaction/" in choice.url:
        choice = browser.get(choice.url.split("?")[0].rstrip("/") + "/providers")
    assert choice.status_code == 200 and "/providers" in choice.url
    upstream_page = browser.submit(choice, {}, f"/federation/{provider}/start")
    return choice, upstream_page, params, verifier


def sign_in_upstream(browser, page, login, password):
    if "request_id" in page.text:  # sandbox
        back = browser.submit(page, {"login": login, "password": password}, "/login", ("action", "login"),
                              follow=False)
    else:  # node-oidc-provider's page
        back = browser.submit(page, {"login": login, "password": password}, "/login", follow=False)
        while back.status_code in (302, 303) and "/federation/callback" not in back.headers["Location"]:
            back = browser.get(requests.compat.urljoin(back.url, back.headers["Location"]), allow_redirects=False)
    assert back.status_code in (302, 303) and "/federation/callback" in back.headers["Location"], back.text
    return browser.get(back.headers["Location"], allow_redirects=False)


def federated_sign_in(fed, provider, login, password, acr_values=None, browser=None, client=None):
    browser = browser or Browser()
    _, page, params, verifier = choose_provider(browser, fed, provider, acr_values, client)
    answer = sign_in_upstream(browser, page, login, password)
    final = follow_until_redirect_to(browser.http, answer, REDIRECT)
    assert final.status_code in (302, 303), final.text
    back = query(final.headers["Location"])
    assert back["state"] == params["state"] and back["iss"] == fed["idp"].url
    client_id, secret = client or fed["client"]
    tokens = requests.post(f"{fed['idp'].url}/token", auth=(client_id, secret), data={
        "grant_type": "authorization_code", "code": back["code"], "redirect_uri": REDIRECT,
        "code_verifier": verifier}).json()
    id_claims = verify_id_token(tokens["id_token"], ProviderMetadata(issuer=fed["idp"].url), client_id,
                                params["nonce"])
    userinfo = requests.get(f"{fed['idp'].url}/userinfo",
                            headers={"Authorization": f"Bearer {tokens['access_token']}"}).json()
    return {"id": id_claims, "userinfo": userinfo, "tokens": tokens, "browser": browser}
