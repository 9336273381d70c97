"""The IdP's own access-token check (userinfo and every bearer API): a real token works, and each
forgery of it is refused with 401 — unsigned (``alg: none``), HMAC-signed with the public key,
expired or without an expiry (signed with the IdP's real key, as an old or buggy token would be),
issued by someone else, or with its signature tampered."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time

import pytest
import requests
from joserfc.jwk import ECKey, RSAKey

from tests.idp.helpers import (
    code_after_sign_in,
    exchange_code_for_tests,
    make_client,
    make_user,
    start_idp,
)

REDIRECT = "http://rp.example/callback"


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@pytest.fixture(scope="module")
def issued(tmp_path_factory):
    """A live IdP and an access token it issued through the real sign-in and code exchange."""
    folder = tmp_path_factory.mktemp("forgery")
    idp = start_idp(f"sqlite:///{folder / 'idp.db'}", raw={"outbox": {"manual": True}})
    make_user(idp.app, "holder@example.org", "Bonne-Passe-2026")
    client_id, secret = make_client(idp.app, [REDIRECT], first_party=True, scope="openid email")
    code, verifier = code_after_sign_in(idp, client_id, REDIRECT, "holder@example.org", "Bonne-Passe-2026",
                                        "openid email")
    token = exchange_code_for_tests(idp.url, client_id, secret, code, verifier, REDIRECT)["access_token"]
    yield idp, token
    idp.stop()


def userinfo(idp, token: str) -> requests.Response:
    return requests.get(f"{idp.url}/userinfo", headers={"Authorization": f"Bearer {token}"}, timeout=10)


def parts(token: str) -> tuple[dict, dict]:
    header, payload, _signature = token.split(".")
    return json.loads(unb64(header)), json.loads(unb64(payload))


def signed_by_the_idp(idp, claims: dict) -> str:
    """What the IdP's real key signs: the forgery is in the claims, not in the signature."""
    from idp.oidc import tokens

    with idp.app.app_context():
        return tokens.sign(claims, tokens.ACCESS_SIGNATURE_ALG, typ="at+jwt")


def test_the_real_token_is_accepted(issued):
    idp, token = issued
    answer = userinfo(idp, token)
    assert answer.status_code == 200 and answer.json()["email"] == "holder@example.org"


def test_an_unsigned_token_is_refused(issued):
    idp, token = issued
    header, claims = parts(token)
    for alg in ("none", "None", "NONE"):
        forged = f"{b64(json.dumps({**header, 'alg': alg}).encode())}.{b64(json.dumps(claims).encode())}."
        assert userinfo(idp, forged).status_code == 401, alg


def test_a_token_hmac_signed_with_the_public_key_is_refused(issued):
    idp, token = issued
    header, claims = parts(token)
    # every published key (the token's own, ES256, and the RS256 one), as PEM and as its JWK text
    for public in requests.get(f"{idp.url}/jwks", timeout=10).json()["keys"]:
        key = (ECKey if public["kty"] == "EC" else RSAKey).import_key(public)
        for public_secret in (key.as_pem(private=False), json.dumps(public).encode()):
            forged_header = {**header, "alg": "HS256", "kid": public["kid"]}
            signing_input = f"{b64(json.dumps(forged_header).encode())}.{b64(json.dumps(claims).encode())}"
            signature = hmac.new(public_secret, signing_input.encode(), hashlib.sha256).digest()
            assert userinfo(idp, f"{signing_input}.{b64(signature)}").status_code == 401, public["kid"]


@pytest.mark.parametrize("change", ["expired", "no_exp", "string_exp", "other_issuer"])
def test_a_token_signed_by_the_idp_with_wrong_times_or_issuer_is_refused(issued, change):
    idp, token = issued
    _header, claims = parts(token)
    now = int(time.time())
    if change == "expired":
        claims.update(iat=now - 7200, exp=now - 3600)
    elif change == "no_exp":
        claims.pop("exp")
    elif change == "string_exp":
        claims["exp"] = str(now + 3600)
    else:
        claims["iss"] = "https://evil.example"
    assert userinfo(idp, signed_by_the_idp(idp, claims)).status_code == 401


def test_a_tampered_token_is_refused(issued):
    idp, token = issued
    header, payload, signature = token.split(".")
    claims = json.loads(unb64(payload))
    claims["scope"] = claims["scope"] + " management"
    assert userinfo(idp, f"{header}.{b64(json.dumps(claims).encode())}.{signature}").status_code == 401
