"""Federated sign-in end to end: a live IdP, live sandbox upstream OPs (and node-oidc-provider),
driven over HTTP like a browser, through to the ID token and userinfo a portal receives.

Runs on SQLite + fakeredis and on PostgreSQL + real Redis (``live_idp``).
"""

from __future__ import annotations

from urllib.parse import urlencode

import pytest
import requests

from .helpers import (
    NAMESAKE,
    RP_HOME,
    Browser,
    authorize_url,
    choose_provider,
    federated_sign_in,
    forms,
    query,
    sign_in_upstream,
)

PIVOT = {"given_name", "family_name", "birthdate", "gender", "birthplace", "birthcountry", "email",
         "email_verified"}
ANGELA = {"given_name": "Angela Claire Louise", "family_name": "DUBOIS", "birthdate": "1962-08-24",
          "gender": "female", "birthplace": "75107", "birthcountry": "99100"}


@pytest.fixture(autouse=True)
def well_behaved(fed):
    for app in fed["sandboxes"].values():
        app.config["SANDBOX_FAULTS"] = set()
        app.config["SANDBOX_ACR"] = None


def passed_on(claims: dict) -> dict:
    """The identity claims a portal receives (protocol claims and withheld nulls aside)."""
    protocol = {"sub", "iss", "aud", "exp", "iat", "auth_time", "nonce", "acr", "amr", "sid", "azp", "at_hash", "jti"}
    return {k: v for k, v in claims.items() if k not in protocol and v is not None}


def test_provider_choice_page_lists_the_providers_and_says_where_to_recover_credentials(fed):
    browser = Browser()
    page = browser.get(authorize_url(fed)[0])
    assert page.status_code == 200
    for name in ("impots", "ameli", "laposte", "node-oidc-provider"):
        assert f"Se connecter avec {name}" in page.text
    assert "Bac à sable" in page.text
    assert "vous devez vous rapprocher de l’organisme choisi" in page.text.replace("'", "’").replace("&#39;", "’")
    assert len([f for f in forms(page.text) if "/federation/" in f["action"]]) == 4
    english = browser.get(page.url, params={"lang": "en"})
    assert "Choose an identity provider" in english.text and "contact the organisation you chose" in english.text


def test_sign_in_through_a_sandbox_provider_end_to_end(fed):
    result = federated_sign_in(fed, "impots", "1234567890123", "Sandbox-Impots-1")
    assert result["id"]["acr"] == "eidas1"
    assert "fed" in result["id"]["amr"]
    info = result["userinfo"]
    assert info["sub"] == result["id"]["sub"]
    assert {k: info[k] for k in ANGELA} == ANGELA
    assert info["email"] == "angela.dubois@example.fr" and info["email_verified"] is True
    # the pivot identity and nothing else: no placeholder email, no internal identifier
    assert set(passed_on(info)) <= PIVOT and set(passed_on(result["id"])) <= PIVOT
    assert "federation.invalid" not in str(info) + str(result["id"])


def test_same_person_through_two_providers_is_the_same_account(fed):
    via_impots = federated_sign_in(fed, "impots", "1234567890123", "Sandbox-Impots-1")
    via_ameli = federated_sign_in(fed, "ameli", "2620875107001", "Sandbox-Ameli-1")
    assert via_ameli["id"]["sub"] == via_impots["id"]["sub"]
    assert via_ameli["userinfo"]["email"] == "a.dubois@example.org"  # the last provider's address
    someone_else = federated_sign_in(fed, "ameli", "1900599350002", "Sandbox-Ameli-2")
    assert someone_else["id"]["sub"] != via_impots["id"]["sub"]


def test_email_alone_does_not_link(fed):
    paul = federated_sign_in(fed, "impots", "2345678901234", "Sandbox-Impots-2")
    namesake = federated_sign_in(fed, "ameli", NAMESAKE["login"], NAMESAKE["password"])
    assert paul["userinfo"]["email"] == namesake["userinfo"]["email"]
    assert paul["id"]["sub"] != namesake["id"]["sub"]
    assert namesake["userinfo"]["given_name"] == "Pauline"


@pytest.mark.parametrize("fault", ["bad_signature", "wrong_nonce", "wrong_iss", "wrong_aud", "alg_none", "alg_hs256"])
def test_tampered_upstream_id_token_is_refused(fed, fault):
    fed["sandboxes"]["impots"].config["SANDBOX_FAULTS"] = {fault}
    browser = Browser()
    _, page, _, _ = choose_provider(browser, fed, "impots")
    answer = sign_in_upstream(browser, page, "1234567890123", "Sandbox-Impots-1")
    assert answer.status_code == 502
    assert "n'a pas pu être vérifiée" in answer.text.replace("&#39;", "'")
    assert "idp_sid" not in browser.http.cookies  # no IdP session was opened
    retry = [f for f in forms(answer.text)] or [answer.text]
    assert "/providers" in answer.text and retry


def test_wrong_acr_is_refused(fed):
    browser = Browser()
    choice, _, _, _ = choose_provider(browser, fed, "laposte", acr_values="eidas2")
    assert "Se connecter avec laposte" in choice.text and "Se connecter avec impots" not in choice.text
    # a provider that cannot give eidas2 is refused even when asked for directly
    uid = choice.url.split("/interaction/")[1].split("/")[0]
    direct = browser.submit(choice, {}, "/federation/laposte/start", follow=False)
    assert direct.status_code in (302, 303)
    forged = browser.http.post(f"{fed['idp'].url}/federation/impots/start",
                               data={"uid": uid, "csrf_token": forms(choice.text)[-1]["fields"]["csrf_token"]})
    assert forged.status_code == 400
    # the upstream answers with a lower level than required
    fed["sandboxes"]["laposte"].config["SANDBOX_ACR"] = "eidas1"
    browser = Browser()
    _, page, _, _ = choose_provider(browser, fed, "laposte", acr_values="eidas2")
    answer = sign_in_upstream(browser, page, "jean-eric.petit", "Sandbox-LaPoste-1")
    assert answer.status_code == 403 and "insuffisant" in answer.text


def test_the_achieved_level_reaches_the_portal(fed):
    result = federated_sign_in(fed, "laposte", "jean-eric.petit", "Sandbox-LaPoste-1", acr_values="eidas2")
    assert result["id"]["acr"] == "eidas2"
    assert result["userinfo"]["family_name"] == "PETIT"


def test_logout_ends_the_upstream_session_too(fed):
    result = federated_sign_in(fed, "ameli", "1900599350002", "Sandbox-Ameli-2")
    browser = result["browser"]
    logout = browser.get(f"{fed['idp'].url}/logout", params={
        "id_token_hint": result["tokens"]["id_token"], "post_logout_redirect_uri": RP_HOME, "state": "bye"},
        allow_redirects=False)
    hops = []
    while logout.status_code in (302, 303) and not logout.headers["Location"].startswith(RP_HOME):
        hops.append(logout.headers["Location"])
        logout = browser.get(requests.compat.urljoin(logout.url, logout.headers["Location"]), allow_redirects=False)
    assert logout.headers["Location"] == RP_HOME + "?state=bye"
    assert any("/end_session" in hop for hop in hops)  # went through the upstream provider
    assert any("/federation/logged-out" in hop for hop in hops)
    # both sessions are over: the next sign-in asks for the upstream password again
    _, page, _, _ = choose_provider(browser, fed, "ameli")
    assert page.status_code == 200 and "request_id" in page.text


def test_federation_through_node_oidc_provider(fed):
    via_node = federated_sign_in(fed, "nodeop", "angela.dubois", "Node-Op-Pass-1")
    assert via_node["id"]["acr"] == "eidas2"
    assert via_node["userinfo"]["family_name"] == "Dubois"
    assert via_node["userinfo"]["email_verified"] is False  # as the upstream said
    via_impots = federated_sign_in(fed, "impots", "1234567890123", "Sandbox-Impots-1")
    assert via_node["id"]["sub"] == via_impots["id"]["sub"]  # linked through the pivot identity


def upstream_answer(fed, provider, login, password, browser=None):
    """One round trip up to the provider's redirect back to our callback (not followed)."""
    browser = browser or Browser()
    _, page, _, _ = choose_provider(browser, fed, provider)
    if "request_id" in page.text:
        back = browser.submit(page, {"login": login, "password": password}, "/login", ("action", "login"),
                              follow=False)
    else:
        back = browser.submit(page, {"login": login, "password": password}, "/login", follow=False)
    return browser, query(back.headers["Location"])


def test_mix_up_a_code_from_another_provider_is_refused(fed):
    """The answer for impots's round trip carries a code issued by ameli: refused, no session."""
    browser, at_impots = upstream_answer(fed, "impots", "1234567890123", "Sandbox-Impots-1")
    _, at_ameli = upstream_answer(fed, "ameli", "2620875107001", "Sandbox-Ameli-1")
    forged = {**at_impots, "code": at_ameli["code"]}
    answer = browser.get(f"{fed['idp'].url}/federation/callback?{urlencode(forged)}", allow_redirects=False)
    assert answer.status_code >= 400 and "idp_sid" not in browser.http.cookies
    if "iss" in at_ameli:  # RFC 9207: an answer naming another issuer is refused before any exchange
        mixed = {**at_impots, "iss": at_ameli["iss"]}
        browser2, at_impots2 = upstream_answer(fed, "impots", "1234567890123", "Sandbox-Impots-1")
        answer = browser2.get(f"{fed['idp'].url}/federation/callback?{urlencode({**at_impots2, 'iss': mixed['iss']})}",
                              allow_redirects=False)
        assert answer.status_code >= 400 and "idp_sid" not in browser2.http.cookies


def test_code_injection_a_code_of_another_round_trip_is_refused(fed):
    """A code obtained in the attacker's own round trip, injected into the victim's: PKCE and the
    round trip's binding refuse it."""
    victim, at_victim = upstream_answer(fed, "impots", "1234567890123", "Sandbox-Impots-1")
    _, at_attacker = upstream_answer(fed, "impots", "2345678901234", "Sandbox-Impots-2")
    injected = {**at_victim, "code": at_attacker["code"]}
    answer = victim.get(f"{fed['idp'].url}/federation/callback?{urlencode(injected)}", allow_redirects=False)
    assert answer.status_code >= 400 and "idp_sid" not in victim.http.cookies
    # the state itself was single use: the genuine answer is refused afterwards as well
    again = victim.get(f"{fed['idp'].url}/federation/callback?{urlencode(at_victim)}", allow_redirects=False)
    assert again.status_code >= 400


def test_login_csrf_an_unused_callback_opened_by_the_victim_signs_nobody_in(fed):
    """Finding 5 (docs/threat-model.md): the attacker stops his own round trip at the redirect back to
    our callback and makes the victim's browser open it. She must not be signed in as him (she would
    then add her own court case to his space); the round trip belongs to the browser that started it."""
    attacker, at_attacker = upstream_answer(fed, "impots", "2345678901234", "Sandbox-Impots-2")
    callback = f"{fed['idp'].url}/federation/callback?{urlencode(at_attacker)}"
    victim = Browser()
    answer = victim.get(callback, allow_redirects=False)
    assert answer.status_code >= 400 and "idp_sid" not in victim.http.cookies
    assert "/authorize/resume/" not in answer.headers.get("Location", "")
    # nothing was exchanged nor spent in her browser: the round trip is still whole in his own
    mine = attacker.get(callback, allow_redirects=False)
    assert mine.status_code == 302 and "idp_sid" in attacker.http.cookies


def test_the_account_page_of_a_federated_account_shows_no_placeholder_address_nor_password(fed):
    """Design review: the account page showed '<id>@federation.invalid' with 'change the address'
    and 'change the password' links that cannot work for an account without a password."""
    browser = federated_sign_in(fed, "laposte", "jean-eric.petit", "Sandbox-LaPoste-1")["browser"]
    page = browser.http.get(f"{fed['idp'].url}/account").text
    assert "Mon compte" in page
    assert "federation.invalid" not in page
    assert "vous vous connectez par un fournisseur d'identité" in page
    assert 'href="/account/password"' not in page and 'href="/account/email"' not in page
