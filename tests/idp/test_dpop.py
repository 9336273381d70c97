"""DPoP (RFC 9449) with openid-client (panva's, certified for FAPI 2.0; npm, pinned in
tests/idp/node_rp): discovery, PAR, the code grant, userinfo and a refresh, each token request
and the userinfo call with its DPoP proof, as a private_key_jwt client and as a public one.
A bound token is useless without the key: as a Bearer token, with another key's proof, with a
replayed proof; a public client's refresh token is bound too. Threat O7."""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import subprocess
import time
from urllib.parse import urlencode

import pytest
import requests
from authlib.oauth2.rfc7523.assertion import private_key_jwt_sign
from joserfc import jws
from joserfc.jwk import ECKey, RSAKey

from tests.idp.helpers import (
    code_after_sign_in,
    idp_with_user,
    make_client,
    sign_in_with_requests,
)
from tests.idp.openid_client import NODE_RP, ensure_openid_client

REDIRECT = "http://127.0.0.1:9/callback"  # never reached: the test hands the callback URL to the RP
EMAIL, PASSWORD = "dpop@example.org", "Correct-Horse-1"


@pytest.fixture(scope="module")
def idp(tmp_path_factory):
    ensure_openid_client()
    with idp_with_user(tmp_path_factory.mktemp('dpop'), EMAIL, PASSWORD) as server:
        yield server


def run_openid_client(idp, client_id: str, **config) -> dict:
    """Run rp.mjs: it pushes the request and prints the URL; we sign in as the person's browser
    would; it finishes the flow with DPoP and prints what it got."""
    settings = {"issuer": idp.url, "client_id": client_id, "redirect_uri": REDIRECT,
                "scope": "openid email offline_access", **config}
    process = subprocess.Popen(["node", "rp.mjs", json.dumps(settings)], cwd=NODE_RP, stdin=subprocess.PIPE,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        first = json.loads(process.stdout.readline() or "{}")
        assert "authorize" in first, process.stderr.read()
        redirect_uri = settings["redirect_uri"]
        callback = sign_in_with_requests(requests.Session(), first["authorize"], EMAIL, PASSWORD, redirect_uri)
        out, err = process.communicate(f"{redirect_uri}?{urlencode({k: v[0] for k, v in callback.items()})}\n",
                                       timeout=60)
    finally:
        process.kill()
    assert process.returncode == 0, err
    return json.loads(out.strip().splitlines()[-1])


def proof(key, method: str, url: str, access_token: str | None = None, **extra) -> str:
    claims = {"htm": method, "htu": url, "iat": int(time.time()), "jti": secrets.token_urlsafe(12), **extra}
    if access_token:
        claims["ath"] = base64.urlsafe_b64encode(hashlib.sha256(access_token.encode()).digest()).rstrip(b"=").decode()
    header = {"typ": "dpop+jwt", "alg": "ES256", "jwk": key.as_dict(private=False)}
    return jws.serialize_compact(header, json.dumps(claims).encode(), key, algorithms=["ES256"])


def userinfo(idp, token: str, scheme: str = "DPoP", dpop: str | None = None) -> int:
    headers = {"Authorization": f"{scheme} {token}", **({"DPoP": dpop} if dpop else {})}
    return requests.get(f"{idp.url}/userinfo", headers=headers).status_code


def test_openid_client_with_private_key_jwt_par_and_dpop(idp):
    key = RSAKey.generate_key(2048, parameters={"kid": "rp", "alg": "RS256"})
    client_id, _ = make_client(idp.app, [REDIRECT], scope="openid email offline_access", first_party=True,
                               token_endpoint_auth_method="private_key_jwt", jwks={"keys": [key.as_dict(private=False)]},
                               policy={"require_par": True, "require_dpop": True})
    got = run_openid_client(idp, client_id, auth="private_key_jwt", private_jwk=key.as_dict(private=True))
    assert got["token_type"].lower() == "dpop" and got["refreshed_token_type"].lower() == "dpop"
    assert got["userinfo"]["email"] == EMAIL  # userinfo accepted its DPoP proof
    token = got["refreshed_access_token"]
    assert userinfo(idp, token, "Bearer") == 401  # stolen and sent as a bearer token: refused
    thief = ECKey.generate_key("P-256")
    assert userinfo(idp, token, "DPoP", proof(thief, "GET", f"{idp.url}/userinfo", token)) == 401
    assert userinfo(idp, token, "DPoP") == 401  # no proof at all


def test_openid_client_as_a_public_client_its_refresh_token_bound_to_the_key(idp):
    client_id, _ = make_client(idp.app, [REDIRECT], scope="openid email offline_access", first_party=True,
                               token_endpoint_auth_method="none")
    got = run_openid_client(idp, client_id, auth="none", par=False)
    assert got["userinfo"]["email"] == EMAIL
    stolen = got["refresh_token"]
    # without the key: no proof, or another key's proof, the refresh token gives nothing
    plain = requests.post(f"{idp.url}/token", data={"grant_type": "refresh_token", "refresh_token": stolen,
                                                     "client_id": client_id})
    assert plain.status_code == 400 and plain.json()["error"] == "invalid_grant"
    thief = ECKey.generate_key("P-256")
    other = requests.post(f"{idp.url}/token", headers={"DPoP": proof(thief, "POST", f"{idp.url}/token")},
                          data={"grant_type": "refresh_token", "refresh_token": stolen, "client_id": client_id})
    assert other.status_code == 400 and other.json()["error"] == "invalid_grant"


def test_proofs_are_checked_and_single_use_and_a_dpop_client_must_send_one(idp):
    client_id, secret = make_client(idp.app, [REDIRECT], scope="openid offline_access", first_party=True,
                                    policy={"require_dpop": True})
    code, verifier = code_after_sign_in(idp, client_id, REDIRECT, EMAIL, PASSWORD, "openid offline_access")
    exchange = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT, "code_verifier": verifier}
    refused = requests.post(f"{idp.url}/token", auth=(client_id, secret), data=exchange)
    assert refused.status_code == 400 and refused.json()["error"] == "invalid_dpop_proof"
    key = ECKey.generate_key("P-256")
    wrong_url = requests.post(f"{idp.url}/token", auth=(client_id, secret), data=exchange,
                              headers={"DPoP": proof(key, "POST", "https://elsewhere.example/token")})
    assert wrong_url.json()["error"] == "invalid_dpop_proof"
    stale = proof(key, "POST", f"{idp.url}/token", iat=int(time.time()) - 600)
    assert requests.post(f"{idp.url}/token", auth=(client_id, secret), data=exchange,
                         headers={"DPoP": stale}).json()["error"] == "invalid_dpop_proof"
    good = proof(key, "POST", f"{idp.url}/token")
    issued = requests.post(f"{idp.url}/token", auth=(client_id, secret), data=exchange, headers={"DPoP": good})
    assert issued.status_code == 200, issued.text  # the refusals above spent nothing of the code
    assert issued.json()["token_type"] == "DPoP"
    token = issued.json()["access_token"]
    at_userinfo = proof(key, "GET", f"{idp.url}/userinfo", token)
    assert userinfo(idp, token, "DPoP", at_userinfo) == 200
    assert userinfo(idp, token, "DPoP", at_userinfo) == 401  # the same proof again: replay
    described = requests.post(f"{idp.url}/introspect", auth=(client_id, secret), data={"token": token}).json()
    assert described["token_type"] == "DPoP" and described["cnf"]["jkt"] == key.thumbprint()


FAPI_REDIRECT = "https://rp.example/callback"  # https, as FAPI 2.0 asks (never reached: the test hands it over)


def test_a_fapi2_client_with_openid_client_par_private_key_jwt_ps256_and_dpop(idp):
    """FAPI 2.0 Security Profile per client (idp/services/fapi.py): PAR, PKCE, private_key_jwt
    with PS256/ES256, DPoP, ES256 ID tokens, https redirects; openid-client meets all of it."""
    key = RSAKey.generate_key(2048, parameters={"kid": "fapi"})
    client_id, _ = make_client(idp.app, [FAPI_REDIRECT], scope="openid email offline_access", first_party=True,
                               token_endpoint_auth_method="private_key_jwt", id_token_alg="ES256",
                               jwks={"keys": [key.as_dict(private=False)]}, policy={"profile": "fapi2"})
    got = run_openid_client(idp, client_id, auth="private_key_jwt", private_jwk=key.as_dict(private=True),
                            assertion_alg="PS256", id_token_alg="ES256", redirect_uri=FAPI_REDIRECT)
    assert got["token_type"].lower() == "dpop" and got["userinfo"]["email"] == EMAIL
    # the profile's refusals: an RS256 assertion, a plain authorization request, no DPoP
    rs256 = private_key_jwt_sign(key, client_id, f"{idp.url}/token", alg="RS256")
    refused = requests.post(f"{idp.url}/token", data={
        "grant_type": "refresh_token", "refresh_token": got["refresh_token"],
        "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer", "client_assertion": rs256},
        headers={"DPoP": proof(ECKey.generate_key("P-256"), "POST", f"{idp.url}/token")})
    assert refused.json()["error"] == "invalid_client"
    plain = requests.get(f"{idp.url}/authorize", allow_redirects=False, params={
        "response_type": "code", "client_id": client_id, "redirect_uri": FAPI_REDIRECT, "scope": "openid",
        "state": "s", "code_challenge": "x" * 43, "code_challenge_method": "S256"})
    assert "error=invalid_request" in plain.headers["Location"]  # PAR only
    without_dpop = requests.post(f"{idp.url}/token", data={
        "grant_type": "refresh_token", "refresh_token": got["refresh_token"],
        "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
        "client_assertion": private_key_jwt_sign(key, client_id, f"{idp.url}/token", alg="PS256")})
    assert without_dpop.json()["error"] == "invalid_dpop_proof"


@pytest.mark.parametrize("registration,refusal", [
    ({"token_endpoint_auth_method": "client_secret_basic"}, "private_key_jwt"),
    ({"id_token_alg": "RS256"}, "ES256"),
    ({"redirect_uris": ["http://rp.example/callback"]}, "https"),
])
def test_a_fapi2_registration_the_profile_forbids_is_refused(idp, registration, refusal):
    key = RSAKey.generate_key(2048)
    values = {"redirect_uris": [FAPI_REDIRECT], "token_endpoint_auth_method": "private_key_jwt",
              "id_token_alg": "ES256", "jwks": {"keys": [key.as_dict(private=False)]}, **registration}
    if values["token_endpoint_auth_method"] != "private_key_jwt":
        values.pop("jwks")
    redirect_uris = values.pop("redirect_uris")
    with pytest.raises(ValueError, match=refusal):
        make_client(idp.app, redirect_uris, policy={"profile": "fapi2"}, **values)


def test_a_code_pushed_with_a_dpop_proof_is_bound_to_that_key(idp):
    """RFC 9449 §10.1: the push's proof binds the code; a stolen code with another key's proof
    (or none) is refused without being spent, the holder's own proof then gets the tokens."""
    from authlib.oauth2.rfc7636 import create_s256_code_challenge

    client_id, secret = make_client(idp.app, [REDIRECT], scope="openid", first_party=True)
    key, verifier = ECKey.generate_key("P-256"), secrets.token_urlsafe(48)
    pushed = requests.post(f"{idp.url}/par", auth=(client_id, secret), headers={"DPoP": proof(key, "POST", f"{idp.url}/par")},
                           data={"response_type": "code", "client_id": client_id, "redirect_uri": REDIRECT,
                                 "scope": "openid", "state": "s", "code_challenge": create_s256_code_challenge(verifier),
                                 "code_challenge_method": "S256"})
    assert pushed.status_code == 201, pushed.text
    callback = sign_in_with_requests(requests.Session(), f"{idp.url}/authorize?" + urlencode(
        {"client_id": client_id, "request_uri": pushed.json()["request_uri"]}), EMAIL, PASSWORD, REDIRECT)
    exchange = {"grant_type": "authorization_code", "code": callback["code"][0], "redirect_uri": REDIRECT,
                "code_verifier": verifier}
    thief = ECKey.generate_key("P-256")
    for headers in ({}, {"DPoP": proof(thief, "POST", f"{idp.url}/token")}):
        stolen = requests.post(f"{idp.url}/token", auth=(client_id, secret), data=exchange, headers=headers)
        assert stolen.status_code == 400 and stolen.json()["error"] == "invalid_grant"
    mine = requests.post(f"{idp.url}/token", auth=(client_id, secret), data=exchange,
                         headers={"DPoP": proof(key, "POST", f"{idp.url}/token")})
    assert mine.status_code == 200 and mine.json()["token_type"] == "DPoP"


def test_a_dpop_client_cannot_shed_the_binding_by_naming_another_client(idp):
    """Outside review: a form client_id beside the client's Basic credentials made /token read the
    other client's DPoP policy, so a client that must use DPoP got Bearer tokens."""
    client_id, secret = make_client(idp.app, [REDIRECT], scope="openid offline_access", first_party=True,
                                    policy={"require_dpop": True})
    other_id, _ = make_client(idp.app, [REDIRECT], scope="openid", first_party=True)
    code, verifier = code_after_sign_in(idp, client_id, REDIRECT, EMAIL, PASSWORD, "openid offline_access")
    exchange = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT, "code_verifier": verifier}
    for stray in (other_id, "nonexistent"):
        named_twice = requests.post(f"{idp.url}/token", auth=(client_id, secret), data={**exchange, "client_id": stray})
        assert named_twice.status_code == 401 and named_twice.json()["error"] == "invalid_client"
    for path in ("/revoke", "/introspect", "/par"):
        assert requests.post(f"{idp.url}{path}", auth=(client_id, secret),
                             data={"token": "x", "client_id": other_id}).status_code == 401
    unreadable = requests.post(f"{idp.url}/token", data=exchange,
                               headers={"Authorization": "Basic " + base64.b64encode(b"\xff\xfe:x").decode()})
    assert unreadable.status_code == 401 and unreadable.json()["error"] == "invalid_client"  # was a 500
    key = ECKey.generate_key("P-256")
    issued = requests.post(f"{idp.url}/token", auth=(client_id, secret), data=exchange,
                           headers={"DPoP": proof(key, "POST", f"{idp.url}/token")})
    assert issued.status_code == 200 and issued.json()["token_type"] == "DPoP"  # the refusals spent nothing
