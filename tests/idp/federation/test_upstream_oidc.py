"""The IdP as a relying party of an upstream OP (idp.upstream.oidc) against a live sandbox OP.

A sandbox told to misbehave sends tampered ID tokens; each must be refused.
"""

from __future__ import annotations

import pytest

from idp.upstream.base import UpstreamError, new_transaction
from idp.upstream.oidc import OIDCUpstream, UpstreamConfig

from .helpers import Browser, live_sandbox, query

REDIRECT = "http://idp.test/federation/callback"
SECRET = "test-secret"


@pytest.fixture(scope="module")
def sandbox():
    with live_sandbox("impots", redirect_uris=[REDIRECT], client_secret=SECRET,
                      post_logout_redirect_uris=["http://idp.test/federation/logged-out"]) as (app, url):
        yield app, url


@pytest.fixture
def upstream(sandbox):
    app, url = sandbox
    app.config["SANDBOX_FAULTS"] = set()
    app.config["SANDBOX_ACR"] = None
    return OIDCUpstream(UpstreamConfig(key="impots", issuer=url, client_id="civic-idp", client_secret=SECRET,
                                       display_name="impots.gouv.fr", scopes=("openid", "profile", "email", "birth"),
                                       acr_levels=("eidas1",), identity="pivot"))


def sign_in_upstream(upstream, acr="eidas1", login="1234567890123", password="Sandbox-Impots-1"):
    transaction = new_transaction("impots", REDIRECT, acr)
    browser = Browser()
    page = browser.get(upstream.start_auth(transaction))
    assert page.status_code == 200 and "Bac à sable" in page.text
    back = browser.submit(page, {"login": login, "password": password}, "/login", ("action", "login"), follow=False)
    assert back.status_code == 302 and back.headers["Location"].startswith(REDIRECT)
    return query(back.headers["Location"]), transaction


def test_sign_in_gives_the_pivot_identity_and_acr(upstream):
    params, transaction = sign_in_upstream(upstream)
    result = upstream.handle_callback(params, transaction)
    assert result.subject == "impots-angela"
    assert result.acr == "eidas1"
    assert result.identity.claims() == {
        "given_name": "Angela Claire Louise", "family_name": "DUBOIS", "birthdate": "1962-08-24",
        "gender": "female", "birthplace": "75107", "birthcountry": "99100",
        "email": "angela.dubois@example.fr", "email_verified": True}
    assert result.end_session_endpoint.endswith("/end_session")
    logout = upstream.end_session_url(result.id_token, "http://idp.test/federation/logged-out", "s1")
    assert "id_token_hint=" in logout and "post_logout_redirect_uri=" in logout


@pytest.mark.parametrize("fault", ["bad_signature", "wrong_nonce", "wrong_iss", "wrong_aud", "alg_none",
                                   "alg_hs256", "expired"])
def test_tampered_id_tokens_are_refused(sandbox, upstream, fault):
    params, transaction = sign_in_upstream(upstream)
    sandbox[0].config["SANDBOX_FAULTS"] = {fault}
    with pytest.raises(UpstreamError) as refused:
        upstream.handle_callback(params, transaction)
    assert refused.value.code == "invalid_id_token"


def test_a_code_is_single_use_and_bound_to_the_verifier(upstream):
    params, transaction = sign_in_upstream(upstream)
    transaction.code_verifier = "x" * 50  # a stolen code without the verifier
    with pytest.raises(UpstreamError) as refused:
        upstream.handle_callback(params, transaction)
    assert refused.value.code == "invalid_response"


def test_state_mismatch_is_refused(upstream):
    params, transaction = sign_in_upstream(upstream)
    params["state"] = "forged"
    with pytest.raises(UpstreamError) as refused:
        upstream.handle_callback(params, transaction)
    assert refused.value.code == "invalid_response"


def test_wrong_or_insufficient_acr_is_refused(sandbox, upstream):
    params, transaction = sign_in_upstream(upstream, acr="eidas2")  # the provider gives eidas1 only
    with pytest.raises(UpstreamError) as refused:
        upstream.handle_callback(params, transaction)
    assert refused.value.code == "acr_too_low"
    sandbox[0].config["SANDBOX_ACR"] = "eidas3"  # claims more than it is declared for
    params, transaction = sign_in_upstream(upstream, acr="eidas1")
    with pytest.raises(UpstreamError) as refused:
        upstream.handle_callback(params, transaction)
    assert refused.value.code == "acr_too_low"


def test_cancel_upstream_is_access_denied(upstream):
    transaction = new_transaction("impots", REDIRECT, None)
    browser = Browser()
    page = browser.get(upstream.start_auth(transaction))
    back = browser.submit(page, {}, "/login", ("action", "cancel"), follow=False)
    with pytest.raises(UpstreamError) as refused:
        upstream.handle_callback(query(back.headers["Location"]), transaction)
    assert refused.value.code == "access_denied"


def test_wrong_password_stays_upstream(upstream):
    transaction = new_transaction("impots", REDIRECT, None)
    browser = Browser()
    page = browser.get(upstream.start_auth(transaction))
    again = browser.submit(page, {"login": "1234567890123", "password": "nope"}, "/login", ("action", "login"))
    assert again.status_code == 200 and "Identifiant ou mot de passe incorrect" in again.text


def test_symmetric_algorithms_cannot_be_configured():
    with pytest.raises(ValueError):
        OIDCUpstream(UpstreamConfig(key="x", issuer="http://x", client_id="c", client_secret="s", display_name="x",
                                    algorithms=("HS256",)))
