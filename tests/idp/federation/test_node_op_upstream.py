"""The generic OIDC upstream signs in through a third-party OP: node-oidc-provider from npm."""

from __future__ import annotations

import pytest

from idp.upstream.base import UpstreamError, new_transaction
from idp.upstream.oidc import OIDCUpstream, UpstreamConfig

from .helpers import Browser, query
from .node_op import node_oidc_provider

REDIRECT = "http://idp.test/federation/callback"


@pytest.fixture(scope="module")
def node_op():
    with node_oidc_provider("node-secret", REDIRECT, "http://idp.test/federation/logged-out") as url:
        yield url


def upstream_for(url, levels=("eidas1", "eidas2")):
    return OIDCUpstream(UpstreamConfig(key="nodeop", issuer=url, client_id="civic-idp", client_secret="node-secret",
                                       display_name="node-oidc-provider", scopes=("openid", "profile", "email", "birth"),
                                       acr_levels=levels, identity="pivot"))


def sign_in(upstream, acr):
    transaction = new_transaction("nodeop", REDIRECT, acr)
    browser = Browser()
    page = browser.get(upstream.start_auth(transaction))
    assert page.status_code == 200, page.text
    back = browser.submit(page, {"login": "angela.dubois", "password": "Node-Op-Pass-1"}, "/login", follow=False)
    while back.status_code in (302, 303) and not back.headers["Location"].startswith(REDIRECT):
        back = browser.get(back.headers["Location"] if back.headers["Location"].startswith("http")
                           else upstream.config.issuer + back.headers["Location"], allow_redirects=False)
    assert back.headers["Location"].startswith(REDIRECT), back.text
    return browser, query(back.headers["Location"]), transaction


def test_sign_in_through_node_oidc_provider(node_op):
    upstream = upstream_for(node_op)
    browser, params, transaction = sign_in(upstream, "eidas2")
    result = upstream.handle_callback(params, transaction)
    assert result.subject == "node-sub-angela" and result.acr == "eidas2"
    assert result.identity.family_name == "Dubois" and result.identity.email_verified is False
    assert result.end_session_endpoint


def test_node_op_level_above_declared_is_refused(node_op):
    upstream = upstream_for(node_op, levels=("eidas1",))  # declared eidas1 only, but asserts eidas2
    _, params, transaction = sign_in(upstream, "eidas1")
    with pytest.raises(UpstreamError) as refused:
        upstream.handle_callback(params, transaction)
    assert refused.value.code == "acr_too_low"
