"""The relying-party token checks refuse every forged or misdirected token."""

import base64
import hashlib
import hmac
import json
import time

import pytest
from flask import Flask, jsonify
from joserfc import jwt
from joserfc.jwk import ECKey, RSAKey

from shared.tokens import (
    BACKCHANNEL_EVENT,
    ProviderMetadata,
    TokenError,
    verify_access_token,
    verify_id_token,
    verify_logout_token,
)
from tests.servers import LiveServer, free_port

CLIENT = "portal"


@pytest.fixture(scope="module")
def signer():
    """A tiny issuer publishing discovery and JWKS: the keys the verifier must trust."""
    rsa = RSAKey.generate_key(2048, parameters={"kid": "rsa-1", "use": "sig", "alg": "RS256"})
    ec = ECKey.generate_key("P-256", parameters={"kid": "ec-1", "use": "sig", "alg": "ES256"})
    port = free_port()
    issuer = f"http://127.0.0.1:{port}"
    app = Flask("fake-issuer")
    published = {"keys": [rsa.as_dict(private=False), ec.as_dict(private=False)]}

    @app.get("/.well-known/openid-configuration")
    def discovery():
        return jsonify(issuer=issuer, jwks_uri=f"{issuer}/jwks")

    @app.get("/jwks")
    def jwks():
        return jsonify(published)

    server = LiveServer(app, port).start()
    yield {"issuer": issuer, "rsa": rsa, "ec": ec, "provider": ProviderMetadata(issuer)}
    server.stop()


def sign(claims, key, alg="RS256", typ="JWT"):
    return jwt.encode({"alg": alg, "kid": key.kid, "typ": typ}, claims, key, algorithms=[alg])


def id_claims(signer, **overrides):
    now = int(time.time())
    claims = {"iss": signer["issuer"], "aud": CLIENT, "sub": "s-1", "iat": now, "exp": now + 300, "nonce": "n-1"}
    claims.update(overrides)
    return {name: value for name, value in claims.items() if value is not None}  # None: the claim is left out


def test_valid_rs256_and_es256_id_tokens_pass(signer):
    for key, alg in ((signer["rsa"], "RS256"), (signer["ec"], "ES256")):
        claims = verify_id_token(sign(id_claims(signer), key, alg), signer["provider"], CLIENT, "n-1")
        assert claims["sub"] == "s-1"


def test_alg_none_is_refused(signer):
    header = base64.urlsafe_b64encode(json.dumps({"alg": "none"}).encode()).rstrip(b"=").decode()
    body = base64.urlsafe_b64encode(json.dumps(id_claims(signer)).encode()).rstrip(b"=").decode()
    with pytest.raises(TokenError, match="algorithm not allowed"):
        verify_id_token(f"{header}.{body}.", signer["provider"], CLIENT, "n-1")


def test_hs256_signed_with_the_public_key_is_refused(signer):
    # Built by hand: joserfc itself refuses a PEM public key as an HMAC secret.
    public_pem = signer["rsa"].as_pem(private=False)
    def b64(data):
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()
    signing_input = f'{b64(json.dumps({"alg": "HS256", "kid": "rsa-1"}).encode())}.{b64(json.dumps(id_claims(signer)).encode())}'
    forged = f"{signing_input}.{b64(hmac.new(public_pem, signing_input.encode(), hashlib.sha256).digest())}"
    with pytest.raises(TokenError, match="algorithm not allowed"):
        verify_id_token(forged, signer["provider"], CLIENT, "n-1")


def test_tampered_payload_is_refused(signer):
    token = sign(id_claims(signer), signer["rsa"])
    header, _payload, signature = token.split(".")
    evil = base64.urlsafe_b64encode(json.dumps(id_claims(signer, sub="someone-else")).encode()).rstrip(b"=").decode()
    with pytest.raises(TokenError, match="bad signature"):
        verify_id_token(f"{header}.{evil}.{signature}", signer["provider"], CLIENT, "n-1")


def test_key_not_published_by_the_issuer_is_refused(signer):
    stranger = RSAKey.generate_key(2048, parameters={"kid": "rsa-1"})
    with pytest.raises(TokenError, match="bad signature"):
        verify_id_token(sign(id_claims(signer), stranger), signer["provider"], CLIENT, "n-1")


@pytest.mark.parametrize("overrides, reason", [
    ({"aud": "another-portal"}, "wrong audience"),
    ({"iss": "http://evil.example"}, "wrong issuer"),
    ({"exp": int(time.time()) - 3600}, "expired"),
    ({"exp": None}, "missing exp"),
    ({"exp": "9999999999"}, "missing exp"),
    ({"sub": None}, "missing sub"),
    ({"nonce": "n-2"}, "nonce mismatch"),
    ({"iat": int(time.time()) + 3600}, "issued in the future"),
    ({"nbf": int(time.time()) + 3600}, "not yet valid"),
])
def test_misdirected_or_stale_id_tokens_are_refused(signer, overrides, reason):
    with pytest.raises(TokenError, match=reason):
        verify_id_token(sign(id_claims(signer, **overrides), signer["rsa"]), signer["provider"], CLIENT, "n-1")


def test_logout_token_rules(signer):
    now = int(time.time())
    good = {"iss": signer["issuer"], "aud": CLIENT, "iat": now, "jti": "j-1", "sid": "sid-1",
            "events": {BACKCHANNEL_EVENT: {}}}
    assert verify_logout_token(sign(good, signer["rsa"]), signer["provider"], CLIENT)["sid"] == "sid-1"
    for broken, reason in (({**good, "nonce": "x"}, "nonce"), ({**good, "events": {}}, "not a logout token"),
                           ({k: v for k, v in good.items() if k != "sid"}, "neither sid nor sub")):
        with pytest.raises(TokenError, match=reason):
            verify_logout_token(sign(broken, signer["rsa"]), signer["provider"], CLIENT)


def test_id_token_is_not_accepted_as_access_token(signer):
    with pytest.raises(TokenError, match="not an access token"):
        verify_access_token(sign(id_claims(signer), signer["rsa"]), signer["provider"], "court_feed")
    now = int(time.time())
    access = {"iss": signer["issuer"], "sub": "c", "client_id": "c", "scope": "court_feed", "iat": now,
              "exp": now + 60, "jti": "a"}
    assert verify_access_token(sign(access, signer["rsa"], typ="at+jwt"), signer["provider"], "court_feed")["sub"] == "c"
    with pytest.raises(TokenError, match="insufficient scope"):
        verify_access_token(sign(access, signer["rsa"], typ="at+jwt"), signer["provider"], "provisioning")
