"""A single-page application as a public client (no secret: token_endpoint_auth_method "none",
PKCE its proof), signed in by oidc-client-ts in Chromium from its own origin: discovery, the code
exchange, userinfo, the refresh and the revocation are cross-origin fetches that work only
because the IdP answers CORS for the client's registered origin; then RP-initiated logout.
Another origin reads none of these answers. Threats: docs/threat-model-oidc.md (O1, O4)."""

from __future__ import annotations

import json
import re
from urllib.parse import urlencode

import pytest
import requests

from tests.idp.helpers import make_client, make_user, pkce, sign_in_with_requests, start_idp
from tests.idp.spa_app import blank_origin, ensure_library, start_spa
from tests.servers import free_port

pytestmark = pytest.mark.browser
EMAIL, PASSWORD = "spa@example.org", "Correct-Horse-1"


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    ensure_library()
    idp = start_idp(f"sqlite:///{tmp_path_factory.mktemp('spa') / 'idp.db'}", raw={"outbox": {"manual": True}})
    make_user(idp.app, EMAIL, PASSWORD, given_name="Ada", family_name="Lovelace")
    port = free_port()
    origin = f"http://127.0.0.1:{port}"
    client_id, secret = make_client(idp.app, [f"{origin}/callback.html"], post_logout_redirect_uris=[f"{origin}/"],
                                    token_endpoint_auth_method="none", allowed_origins=[origin],
                                    scope="openid profile email offline_access")
    assert secret is None  # a public client holds nothing to keep
    spa = start_spa(idp.url, client_id, port)
    elsewhere = blank_origin()
    yield idp, spa, elsewhere, client_id
    for server in (elsewhere, spa, idp):
        server.stop()


def result(page) -> dict:
    page.wait_for_function("document.getElementById('result').textContent.length > 0", timeout=15000)
    return json.loads(page.locator("#result").text_content())


def sign_in(page, idp, spa) -> dict:
    """In the SPA: "sign in", the IdP's pages (identifier, password, consent), back to the SPA."""
    page.goto(spa.url + "/")
    page.evaluate("() => { setTimeout(() => window.app.signIn(), 0); }")  # discovery (cross-origin), then /authorize
    page.wait_for_url(f"{idp.url}/interaction/**")
    page.locator("input[name=identifier]").fill(EMAIL)
    page.get_by_role("button", name="Continuer").click()
    page.locator("input[name=password]").fill(PASSWORD)
    page.get_by_role("button", name="Continuer").click()
    page.get_by_role("button", name="Autoriser").click()  # a third-party SPA: the person consents
    page.wait_for_url(f"{spa.url}/callback.html**")
    outcome = result(page)
    assert "signed_in" in outcome, outcome
    return outcome["signed_in"]


def test_oidc_client_ts_signs_in_reads_userinfo_refreshes_revokes_and_signs_out(setup, chromium):
    idp, spa, _elsewhere, client_id = setup
    context = chromium.new_context()
    page = context.new_page()
    signed_in = sign_in(page, idp, spa)
    # the profile merges the ID token and userinfo (loadUserInfo: a cross-origin GET with the token)
    assert signed_in["profile"]["email"] == EMAIL and signed_in["profile"]["given_name"] == "Ada"
    assert signed_in["refresh_token"] and signed_in["access_token"]

    refreshed = page.evaluate("window.app.refresh()")  # refresh_token grant from the browser
    assert refreshed["access_token"] != signed_in["access_token"]
    assert refreshed["refresh_token"] != signed_in["refresh_token"]  # rotated
    userinfo = requests.get(f"{idp.url}/userinfo", headers={"Authorization": f"Bearer {refreshed['access_token']}"})
    assert userinfo.status_code == 200
    page.evaluate("window.app.revoke()")  # RFC 7009 from the browser, cross-origin, no secret
    again = requests.post(f"{idp.url}/token", data={"grant_type": "refresh_token", "client_id": client_id,
                                                     "refresh_token": refreshed["refresh_token"]}, timeout=10)
    assert again.status_code == 400  # the grant is gone, and its access token with it
    assert requests.get(f"{idp.url}/userinfo",
                        headers={"Authorization": f"Bearer {refreshed['access_token']}"}).status_code == 401

    page.evaluate("() => { setTimeout(() => window.app.signOut(), 0); }")  # RP-initiated logout, id_token_hint
    page.wait_for_url(re.compile(rf"^{re.escape(spa.url)}/(\?.*)?$"))  # back at post_logout_redirect_uri
    page.goto(f"{idp.url}/account")
    assert "/interaction/" in page.url or page.locator("input[name=identifier]").count() == 1  # the IdP session ended
    context.close()


def test_an_unregistered_origin_reads_nothing(setup, chromium):
    """The same fetches from a page on another origin fail in the browser: no CORS answer."""
    idp, spa, elsewhere, client_id = setup
    context = chromium.new_context()
    page = context.new_page()
    page.goto(elsewhere.url + "/")
    outcomes = page.evaluate("""async ([issuer, clientId]) => {
        const attempt = (url, init) => fetch(url, init).then(r => "read " + r.status).catch(() => "blocked");
        return {
          discovery: await attempt(issuer + "/.well-known/openid-configuration"),
          jwks: await attempt(issuer + "/jwks"),
          token: await attempt(issuer + "/token", {method: "POST",
            headers: {"Content-Type": "application/x-www-form-urlencoded"},
            body: "grant_type=refresh_token&refresh_token=x&client_id=" + clientId}),
          userinfo: await attempt(issuer + "/userinfo", {headers: {Authorization: "Bearer x"}}),
          revoke: await attempt(issuer + "/revoke", {method: "POST",
            headers: {"Content-Type": "application/x-www-form-urlencoded"}, body: "token=x&client_id=" + clientId}),
        };
    }""", [idp.url, client_id])
    assert outcomes == {name: "blocked" for name in ("discovery", "jwks", "token", "userinfo", "revoke")}
    # and from the SPA's own origin the very same discovery fetch is read
    page.goto(spa.url + "/")
    assert page.evaluate("""issuer => fetch(issuer + "/.well-known/openid-configuration")
        .then(r => r.json()).then(d => d.issuer)""", idp.url) == idp.url
    context.close()


def test_cors_headers_name_only_the_clients_own_origins(setup):
    idp, spa, elsewhere, client_id = setup
    for path in ("/.well-known/openid-configuration", "/.well-known/oauth-authorization-server", "/jwks"):
        assert requests.get(idp.url + path, headers={"Origin": spa.url}).headers["Access-Control-Allow-Origin"] == spa.url
        answer = requests.get(idp.url + path, headers={"Origin": elsewhere.url})
        assert "Access-Control-Allow-Origin" not in answer.headers and "Origin" in answer.headers["Vary"]
    preflight = requests.options(f"{idp.url}/userinfo", headers={
        "Origin": spa.url, "Access-Control-Request-Method": "GET", "Access-Control-Request-Headers": "authorization"})
    assert preflight.headers["Access-Control-Allow-Origin"] == spa.url
    assert "Access-Control-Allow-Credentials" not in preflight.headers  # tokens, never the IdP's cookies
    assert "Access-Control-Allow-Origin" not in requests.options(f"{idp.url}/token", headers={
        "Origin": elsewhere.url, "Access-Control-Request-Method": "POST"}).headers
    # another client's registered origin does not read this client's token answers
    other_origin = "http://other-spa.example"
    make_client(idp.app, ["http://other-spa.example/cb"], token_endpoint_auth_method="none",
                allowed_origins=[other_origin])
    token = requests.post(f"{idp.url}/token", headers={"Origin": other_origin},
                          data={"grant_type": "refresh_token", "refresh_token": "x", "client_id": client_id})
    assert "Access-Control-Allow-Origin" not in token.headers
    mine = requests.post(f"{idp.url}/token", headers={"Origin": spa.url},
                         data={"grant_type": "refresh_token", "refresh_token": "x", "client_id": client_id})
    assert mine.headers["Access-Control-Allow-Origin"] == spa.url


def test_a_stolen_public_code_is_useless_without_the_verifier(setup):
    """O1: the public client has no secret, so the PKCE verifier alone proves the code's holder."""
    idp, spa, _elsewhere, client_id = setup
    redirect_uri = f"{spa.url}/callback.html"
    verifier, challenge = pkce()
    callback = sign_in_with_requests(requests.Session(), f"{idp.url}/authorize?" + urlencode({
        "response_type": "code", "client_id": client_id, "redirect_uri": redirect_uri, "scope": "openid",
        "state": "s", "code_challenge": challenge, "code_challenge_method": "S256"}), EMAIL, PASSWORD, redirect_uri)
    stolen = {"grant_type": "authorization_code", "code": callback["code"][0], "redirect_uri": redirect_uri,
              "client_id": client_id}
    assert requests.post(f"{idp.url}/token", data={**stolen, "code_verifier": pkce()[0]}).json()["error"] == "invalid_grant"
    # and a public client cannot start without PKCE at all
    answer = requests.get(f"{idp.url}/authorize", allow_redirects=False, params={
        "response_type": "code", "client_id": client_id, "redirect_uri": redirect_uri, "scope": "openid", "state": "s"})
    assert "error=invalid_request" in answer.headers["Location"]
    # not even when registered without it: for a public client PKCE is the only proof
    lax, _ = make_client(idp.app, [redirect_uri], token_endpoint_auth_method="none", require_pkce=False)
    answer = requests.get(f"{idp.url}/authorize", allow_redirects=False, params={
        "response_type": "code", "client_id": lax, "redirect_uri": redirect_uri, "scope": "openid", "state": "s"})
    assert "error=invalid_request" in answer.headers["Location"]
    assert verifier  # (the honest holder's verifier was never sent)


def test_a_public_client_gets_no_client_credentials_and_cannot_pose_as_confidential(setup):
    idp, _spa, _elsewhere, client_id = setup
    answer = requests.post(f"{idp.url}/token", data={"grant_type": "client_credentials", "client_id": client_id})
    assert answer.status_code in (400, 401) and answer.json()["error"] in ("invalid_client", "unauthorized_client")
    confidential, _secret = make_client(idp.app, ["http://rp.example/cb"])
    # a confidential client sending only its client_id (the public method) is refused
    answer = requests.post(f"{idp.url}/token", data={"grant_type": "refresh_token", "refresh_token": "x",
                                                      "client_id": confidential})
    assert answer.json()["error"] == "invalid_client"
    with pytest.raises(ValueError):
        make_client(idp.app, [], token_endpoint_auth_method="none", grant_types=["client_credentials"], scope="")


@pytest.fixture(scope="module")
def dpop_spa(setup):
    idp = setup[0]
    port = free_port()
    origin = f"http://127.0.0.1:{port}"
    client_id, _ = make_client(idp.app, [f"{origin}/callback.html"], post_logout_redirect_uris=[f"{origin}/"],
                               token_endpoint_auth_method="none", allowed_origins=[origin],
                               scope="openid profile email offline_access", policy={"require_dpop": True})
    spa = start_spa(idp.url, client_id, port, dpop=True)
    yield spa, client_id
    spa.stop()


def test_oidc_client_ts_with_dpop_binds_the_spas_tokens_to_its_key(setup, dpop_spa, chromium):
    """oidc-client-ts's DPoP (a non-extractable key in IndexedDB): the token requests carry its
    proofs, so the access token and the public client's refresh token are bound to it; copied out
    of the browser's storage, neither works (threat O7)."""
    idp, spa, client_id = setup[0], *dpop_spa
    context = chromium.new_context()
    page = context.new_page()
    signed_in = sign_in(page, idp, spa)
    assert signed_in["token_type"] == "DPoP"
    info = page.evaluate("window.app.userinfo()")  # Authorization: DPoP + manager.dpopProof(...)
    assert info["status"] == 200 and info["body"]["email"] == EMAIL
    token = signed_in["access_token"]
    assert requests.get(f"{idp.url}/userinfo", headers={"Authorization": f"Bearer {token}"}).status_code == 401
    refreshed = page.evaluate("window.app.refresh()")  # the bound refresh token: the library proves the key
    assert refreshed["access_token"] != token and refreshed["token_type"] == "DPoP"
    copied = requests.post(f"{idp.url}/token", data={"grant_type": "refresh_token", "client_id": client_id,
                                                      "refresh_token": refreshed["refresh_token"]})
    assert copied.status_code == 400  # no proof: refused before anything is spent (require_dpop)
    assert page.evaluate("window.app.userinfo()")["status"] == 200  # the SPA itself carries on
    context.close()
