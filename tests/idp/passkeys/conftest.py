"""A live IdP reached as http://localhost:<port> (WebAuthn refuses an IP address as RP id), its
outbox delivering to a real dev inbox, and Chromium's virtual authenticator (DevTools WebAuthn
domain) standing in for the person's phone or security key."""

from __future__ import annotations

import base64
import json
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
import requests

from tests.idp.helpers import (
    csrf_token,
    exchange_code_for_tests,
    make_client,
    pkce,
    prove_mailbox_in_browser,
    start_idp,
)
from tests.idp.lifecycle.conftest import fresh_throttles  # noqa: F401 - each test starts with no counters

PORTAL = "http://portal.example"
GOOD = "Bonne-Passe-2026"


@pytest.fixture(scope="module")
def idp(tmp_path_factory, devinbox):
    server = start_idp(f"sqlite:///{tmp_path_factory.mktemp('passkeys')}/idp.db", host="localhost",
                       **devinbox.settings())
    yield server
    server.stop()


@pytest.fixture(scope="module")
def portal(idp):
    return make_client(idp.app, redirect_uris=[f"{PORTAL}/callback"], scope="openid email", first_party=True)


@pytest.fixture
def page(chromium):
    context = chromium.new_context(locale="fr-FR")
    page = context.new_page()
    yield page
    context.close()


class Authenticator:
    """One virtual authenticator: the device's own (``internal``: user verification by 'fingerprint')
    or a security key (``usb``)."""

    def __init__(self, page, backup_eligible: bool = False, transport: str = "internal"):
        self.cdp = page.context.new_cdp_session(page)
        self.cdp.send("WebAuthn.enable", {"enableUI": False})
        self.id = self.cdp.send("WebAuthn.addVirtualAuthenticator", {"options": {
            "protocol": "ctap2", "transport": transport, "hasResidentKey": True, "hasUserVerification": True,
            "isUserVerified": True, "automaticPresenceSimulation": True,
            "defaultBackupEligibility": backup_eligible, "defaultBackupState": backup_eligible}})["authenticatorId"]

    def credentials(self) -> list[dict]:
        return self.cdp.send("WebAuthn.getCredentials", {"authenticatorId": self.id})["credentials"]

    def remove(self) -> None:
        self.cdp.send("WebAuthn.removeVirtualAuthenticator", {"authenticatorId": self.id})

    def add_credential(self, credential: dict) -> None:
        self.cdp.send("WebAuthn.addCredential", {"authenticatorId": self.id, "credential": credential})


def without_autofill(page) -> None:
    """A browser that offers no passkey in the identifier's autofill (no conditional mediation):
    with it, the virtual authenticator, always present, would answer the autofill request at once."""
    page.add_init_script("if (window.PublicKeyCredential) PublicKeyCredential.isConditionalMediationAvailable"
                         " = () => Promise.resolve(false);")


def sign_in_with_password(page, idp_url: str, email: str, password: str = GOOD, next_path: str = "/account") -> None:
    page.goto(f"{idp_url}/signin?next={next_path}")
    page.get_by_label("Adresse e-mail").fill(email)
    page.get_by_role("button", name="Continuer").click()
    page.get_by_label("Mot de passe").fill(password)
    page.get_by_role("button", name="Continuer").click()


def use_passkey(page) -> None:
    """Click "Utiliser ma clé d'accès" once the page's script is there: it runs the ceremony on
    submit; a click while the deferred script is still loading posts an empty answer (refused)."""
    button = page.get_by_role("button", name="Utiliser ma clé d'accès")
    button.wait_for()
    page.wait_for_load_state()
    button.click()


def add_passkey(page, idp, name: str) -> None:
    page.goto(f"{idp.url}/account/passkeys")
    first = page.get_by_role("link", name="Recevoir le code")
    first.or_(page.get_by_label("Nom de la clé d'accès")).wait_for()
    if first.is_visible():  # the account's first factor: the code sent to its address first
        first.click()
        prove_mailbox_in_browser(page, idp.app)
    page.get_by_label("Nom de la clé d'accès").fill(name)
    page.get_by_role("button", name="Ajouter une clé d'accès").click()
    codes = page.get_by_role("heading", name="Vos codes de secours")
    added = page.get_by_text("La clé d'accès a été ajoutée")
    codes.or_(added).wait_for()
    if codes.is_visible():  # the account's first factor comes with its recovery codes
        page.get_by_role("link", name="J'ai conservé mes codes, continuer").click()
    added.wait_for()


def sign_out(page) -> None:
    page.context.clear_cookies()


def claims_of(jwt: str) -> dict:
    payload = jwt.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def authorize_in_browser(page, idp, portal, then=None, keep: dict | None = None, **extra) -> dict:
    """Start an authorization in the browser, let ``then(page)`` sign in, catch the portal's
    callback and exchange its code: returns the ID token's claims (``keep`` receives the tokens)."""
    verifier, challenge = pkce()
    params = {"response_type": "code", "client_id": portal[0], "redirect_uri": f"{PORTAL}/callback",
              "scope": "openid email", "state": "s", "nonce": "n", "code_challenge": challenge,
              "code_challenge_method": "S256", **extra}
    # the portal does not exist: its callback is answered here (no error page whose navigation would
    # race the test's next one) and caught as the browser requests it
    page.route(f"{PORTAL}/callback*", lambda route: route.fulfill(status=200, body="callback", content_type="text/plain"))
    with page.expect_request(lambda r: r.url.startswith(f"{PORTAL}/callback"), timeout=20000) as callback:
        page.goto(f"{idp.url}/authorize?{urlencode(params)}")
        if then:
            then(page)
    page.wait_for_load_state()
    page.unroute(f"{PORTAL}/callback*")
    query = parse_qs(urlsplit(callback.value.url).query)
    assert "code" in query, query
    tokens = exchange_code_for_tests(idp.url, *portal, query["code"][0], verifier, f"{PORTAL}/callback")
    if keep is not None:
        keep.update(tokens)
    return claims_of(tokens["id_token"])


def password_only_session(idp_url: str, email: str) -> tuple[requests.Session, str]:
    """A browser (requests) that typed the right password and stands before the second factor;
    returns it and the second-factor page's URL, *not yet visited* (no challenge asked)."""
    http = requests.Session()
    page = http.get(f"{idp_url}/signin?next=/account")
    page = http.post(page.url, data={"csrf_token": csrf_token(page.text), "identifier": email})
    answer = http.post(page.url, data={"csrf_token": csrf_token(page.text), "password": GOOD},
                       allow_redirects=False)
    assert answer.status_code in (302, 303), answer.text[:300]
    http.csrf = csrf_token(page.text)
    return http, answer.headers["Location"]
