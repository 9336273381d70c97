"""The federation flow on its own (idp.flows.federation): acr policy, provider offer, single-use round trip."""

from __future__ import annotations

from dataclasses import replace

import pytest

import idp
from idp.flows import federation as flow
from idp.upstream.oidc import OIDCUpstream
from idp.upstream.registry import parse_providers
from shared.storage import Database, make_redis

from .helpers import Browser, live_sandbox, query

REDIRECT = "http://idp.test/federation/callback"
BROWSER = "digest-of-the-browser-binding"


@pytest.mark.parametrize("acr_values,default,expected", [
    ("eidas2", "eidas1", "eidas2"),
    ("eidas3 eidas2", None, "eidas2"),
    ("", "eidas1", "eidas1"),
    ("urn:other", None, None),
    (None, None, None),
])
def test_required_acr(acr_values, default, expected):
    assert flow.required_acr(acr_values, default) == expected


def test_providers_that_cannot_give_the_level_are_not_offered():
    configs = parse_providers({
        "low": {"issuer": "http://a", "client_id": "c", "display_name": "Low", "acr_levels": ["eidas1"]},
        "high": {"issuer": "http://b", "client_id": "c", "display_name": "High", "acr_levels": ["eidas1", "eidas2"]},
    })
    upstreams = {k: OIDCUpstream(c) for k, c in configs.items()}
    assert [p.key for p in flow.offered_providers(upstreams, "eidas1")] == ["low", "high"]
    assert [p.key for p in flow.offered_providers(upstreams, "eidas2")] == ["high"]
    assert flow.offered_providers(upstreams, "eidas3") == []


def test_sandboxes_are_never_offered_in_production():
    raw = {"sb": {"issuer": "http://a", "client_id": "c", "display_name": "Sandbox", "sandbox": True}}
    assert parse_providers(raw, production=True) == {}
    assert list(parse_providers(raw, production=False)) == ["sb"]


@pytest.fixture
def db(tmp_sqlite_url):
    idp.upgrade_database(tmp_sqlite_url)
    database = Database(tmp_sqlite_url)
    yield database
    database.dispose()


def test_round_trip_is_single_use(db):
    redis = make_redis(None, namespace="federation-flow-test")
    with live_sandbox("ameli", redirect_uris=[REDIRECT], client_secret="s") as (_app, url):
        configs = parse_providers({"ameli": {"issuer": url, "client_id": "civic-idp", "display_name": "ameli.fr",
                                             "client_secret_env": "NOPE_UNSET", "scopes": ["openid", "profile",
                                                                                           "email", "birth"]}})
        upstreams = {"ameli": OIDCUpstream(replace(configs["ameli"], client_secret="s"))}
        authorize = flow.start(redis, upstreams["ameli"], "uid-1", "eidas1", REDIRECT, BROWSER)
        browser = Browser()
        page = browser.get(authorize)
        back = browser.submit(page, {"login": "2620875107001", "password": "Sandbox-Ameli-1"}, "/login",
                              ("action", "login"), follow=False)
        params = query(back.headers["Location"])
        done = flow.submit(redis, db, upstreams, params, BROWSER)
        assert done.uid == "uid-1" and done.acr == "eidas1" and done.amr[0] == "fed"
        assert done.upstream_session["id_token"] and done.upstream_session["provider"] == "ameli"
        with pytest.raises(flow.FederationFailed) as replay:
            flow.submit(redis, db, upstreams, params, BROWSER)
        assert replay.value.code == "expired"


def test_each_round_trip_has_its_own_state_nonce_and_pkce_challenge():
    """What binds an upstream answer to one round trip (code injection, RFC 9700 §4.5) is fresh
    each time: two round trips for the same interaction share neither state, nonce nor challenge."""
    redis = make_redis(None, namespace="federation-fresh-test")
    with live_sandbox("ameli", redirect_uris=[REDIRECT], client_secret="s") as (_app, url):
        configs = parse_providers({"ameli": {"issuer": url, "client_id": "civic-idp", "display_name": "ameli.fr",
                                             "client_secret_env": "NOPE_UNSET", "scopes": ["openid"]}})
        upstream = OIDCUpstream(replace(configs["ameli"], client_secret="s"))
        first, second = (query(flow.start(redis, upstream, "uid-1", "eidas1", REDIRECT, BROWSER)) for _ in range(2))
    for name in ("state", "nonce", "code_challenge"):
        assert first[name] and second[name] and first[name] != second[name], name
    assert first["code_challenge_method"] == second["code_challenge_method"] == "S256"
