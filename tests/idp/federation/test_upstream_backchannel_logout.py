"""An upstream provider's back-channel logout (OIDC Back-Channel Logout 1.0, the IdP as its RP):
the IdP sessions that came through it end, and so do our own clients' sessions (our back-channel
logout); a forged, misdirected or replayed logout token ends nothing.

The real sender is node-oidc-provider (``nodestd``, backchannelLogout enabled, our endpoint
registered with its sid); the forgeries are signed by a sandbox provider's own key (or an
attacker's) and posted to ``/federation/impots/backchannel-logout``.
Runs on SQLite + fakeredis and on PostgreSQL + real Redis.
"""

from __future__ import annotations

import json
import secrets
import time

import pytest
import requests
from joserfc import jwt
from joserfc.jwk import OctKey, RSAKey

from shared.tokens import ProviderMetadata, verify_logout_token

from .helpers import authorize_url, federated_sign_in, query

EVENT = "http://schemas.openid.net/event/backchannel-logout"


def signed_in(fed, result) -> bool:
    """Both: the IdP session is alive (a silent authorization gets a code) and its access token works."""
    silent = result["browser"].get(authorize_url(fed, client=fed["standard_client"], prompt="none")[0],
                                   allow_redirects=False)
    userinfo = requests.get(f"{fed['idp'].url}/userinfo",
                            headers={"Authorization": f"Bearer {result['tokens']['access_token']}"})
    has_code = "code" in query(silent.headers.get("Location", ""))
    assert has_code == (userinfo.status_code == 200), (silent.headers, userinfo.status_code)
    return has_code


def test_node_oidc_provider_logout_ends_our_session_and_our_clients_sessions(fed):
    result = federated_sign_in(fed, "nodestd", "marc.leroy", "Node-Op-Pass-2", client=fed["standard_client"])
    assert signed_in(fed, result)
    fed["logouts"].clear()
    browser = result["browser"]
    # the person signs out at the upstream provider itself
    page = browser.get(f"{fed['nodestd']}/session/end")
    assert page.status_code == 200
    done = browser.submit(page, {}, "/session/end/confirm", follow=False)
    assert done.status_code in (200, 302, 303)
    assert not signed_in(fed, result)
    # and our client was told, with the session it knows (sid of its ID token), before the upstream answered
    assert len(fed["logouts"]) == 1
    claims = verify_logout_token(fed["logouts"][0], ProviderMetadata(issuer=fed["idp"].url),
                                 fed["standard_client"][0])
    assert claims["sid"] == result["id"]["sid"] and claims["sub"] == result["id"]["sub"]


@pytest.fixture
def impots_key(fed):
    return fed["sandboxes"]["impots"].extensions["sandbox_key"]


def logout_token(fed, key, *, header=None, drop=(), **claims) -> str:
    now = int(time.time())
    body = {"iss": fed["issuers"]["impots"], "aud": "civic-idp", "iat": now, "exp": now + 120,
            "jti": secrets.token_urlsafe(12), "sub": "impots-paul", "events": {EVENT: {}}, **claims}
    for name in drop:
        body.pop(name)
    return jwt.encode(header or {"alg": "RS256", "kid": key.kid, "typ": "logout+jwt"}, body, key)


def post(fed, token, provider="impots"):
    return requests.post(f"{fed['idp'].url}/federation/{provider}/backchannel-logout", data={"logout_token": token})


def forgeries(fed, key):
    attacker = RSAKey.generate_key(2048, parameters={"kid": key.kid})
    public_as_secret = OctKey.import_key(json.dumps(key.as_dict(private=False)).encode())
    now = int(time.time())
    return {
        "signed by another key": logout_token(fed, attacker),
        "HS256 keyed with the public key": jwt.encode({"alg": "HS256", "kid": key.kid}, {
            "iss": fed["issuers"]["impots"], "aud": "civic-idp", "iat": now, "jti": "x", "sub": "impots-paul",
            "events": {EVENT: {}}}, public_as_secret, algorithms=["HS256"]),
        "another issuer": logout_token(fed, key, iss=fed["issuers"]["ameli"]),
        "another audience": logout_token(fed, key, aud="someone-else"),
        "no logout event": logout_token(fed, key, events={"http://example.com/other": {}}),
        "an ID token (nonce)": logout_token(fed, key, nonce="n"),
        "no jti": logout_token(fed, key, drop=("jti",)),
        "expired": logout_token(fed, key, iat=now - 3600, exp=now - 3000),
        "neither sub nor sid": logout_token(fed, key, drop=("sub",)),
    }


def test_a_forged_or_misdirected_logout_token_ends_nothing(fed, impots_key):
    result = federated_sign_in(fed, "impots", "2345678901234", "Sandbox-Impots-2", client=fed["standard_client"])
    for name, token in forgeries(fed, impots_key).items():
        answer = post(fed, token)
        assert answer.status_code == 400 and answer.json()["error"] == "invalid_request", name
        assert answer.headers["Cache-Control"] == "no-store"
        assert signed_in(fed, result), name
    # a genuine token of impots posted to another provider's endpoint is that provider's forgery
    assert post(fed, logout_token(fed, impots_key), provider="ameli").status_code == 400
    assert post(fed, logout_token(fed, impots_key), provider="nobody").status_code == 400
    assert signed_in(fed, result)


def test_a_genuine_logout_token_works_once(fed, impots_key):
    result = federated_sign_in(fed, "impots", "2345678901234", "Sandbox-Impots-2", client=fed["standard_client"])
    token = logout_token(fed, impots_key)  # names the upstream sub only: every session through it ends
    answer = post(fed, token)
    assert answer.status_code == 200 and answer.json()["sessions_ended"] >= 1
    assert not signed_in(fed, result)
    # the person signs in again; the same token replayed (captured on the way) ends nothing
    again = federated_sign_in(fed, "impots", "2345678901234", "Sandbox-Impots-2", client=fed["standard_client"])
    replay = post(fed, token)
    assert replay.status_code == 400 and replay.json()["error_description"] == "replayed"
    assert signed_in(fed, again)


def test_a_logout_token_for_another_upstream_session_leaves_this_one(fed, impots_key):
    """A sid names one upstream session: a token for another sid of the same person ends nothing here."""
    result = federated_sign_in(fed, "impots", "2345678901234", "Sandbox-Impots-2", client=fed["standard_client"])
    answer = post(fed, logout_token(fed, impots_key, sid="another-upstream-session"))
    assert answer.status_code == 200 and answer.json()["sessions_ended"] == 0
    assert signed_in(fed, result)


def test_a_logout_token_naming_only_the_upstream_session_ends_it(fed, impots_key):
    """Back-Channel Logout 1.0 §2.4: a token may carry a sid and no sub; the sid recorded at sign-in
    leads to the account, and only the IdP sessions of that upstream session end."""
    other = federated_sign_in(fed, "impots", "2345678901234", "Sandbox-Impots-2", client=fed["standard_client"])
    result = federated_sign_in(fed, "impots", "2345678901234", "Sandbox-Impots-2", client=fed["standard_client"])
    upstream_sid = fed["sandboxes"]["impots"].extensions["sandbox_store"].sessions["2345678901234"]
    answer = post(fed, logout_token(fed, impots_key, drop=("sub",), sid=upstream_sid))
    assert answer.status_code == 200 and answer.json()["sessions_ended"] == 1
    assert not signed_in(fed, result)
    assert signed_in(fed, other)  # another browser, another upstream session of the same person
