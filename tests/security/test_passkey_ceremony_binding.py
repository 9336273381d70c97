"""Outside review: the passkey second-factor challenge was kept per account, so an assertion made
for one sign-in's challenge completed another sign-in of the same account, and a second sign-in's
password step (a thief's) voided the owner's pending ceremony. Challenges now belong to one
account in one session (passkeys._ceremony_owner). A software authenticator (ES256, "none")
stands in for the browser's, so the test can answer any challenge it wants."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import struct

import cbor2
import pytest
import requests
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

from tests.idp.helpers import csrf_token, make_user, prove_mailbox, start_idp

GOOD = "Bonne-Passe-2026"


def b64u(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def ub64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class SoftKey:
    """A software authenticator: ES256, 'none' attestation, UP+UV."""

    def __init__(self, origin: str, user_id: bytes):
        self.key, self.id, self.count, self.origin, self.user_id = ec.generate_private_key(ec.SECP256R1()), os.urandom(16), 0, origin, user_id

    def attestation(self, options: dict) -> dict:
        numbers = self.key.public_key().public_numbers()
        cose = cbor2.dumps({1: 2, 3: -7, -1: 1, -2: numbers.x.to_bytes(32, "big"), -3: numbers.y.to_bytes(32, "big")})
        client = json.dumps({"type": "webauthn.create", "challenge": options["challenge"], "origin": self.origin}).encode()
        data = (hashlib.sha256(b"localhost").digest() + bytes([0x45]) + struct.pack(">I", 0) + bytes(16)
                + struct.pack(">H", len(self.id)) + self.id + cose)
        obj = cbor2.dumps({"fmt": "none", "attStmt": {}, "authData": data})
        return {"id": b64u(self.id), "rawId": b64u(self.id), "type": "public-key", "clientExtensionResults": {},
                "response": {"clientDataJSON": b64u(client), "attestationObject": b64u(obj), "transports": ["internal"]}}

    def assertion(self, challenge: str) -> dict:
        self.count += 1
        client = json.dumps({"type": "webauthn.get", "challenge": challenge, "origin": self.origin}).encode()
        data = hashlib.sha256(b"localhost").digest() + bytes([0x05]) + struct.pack(">I", self.count)
        sig = self.key.sign(data + hashlib.sha256(client).digest(), ec.ECDSA(hashes.SHA256()))
        return {"id": b64u(self.id), "rawId": b64u(self.id), "type": "public-key", "clientExtensionResults": {},
                "response": {"clientDataJSON": b64u(client), "authenticatorData": b64u(data), "signature": b64u(sig),
                             "userHandle": b64u(self.user_id)}}


@pytest.fixture(scope="module")
def idp(tmp_path_factory):
    server = start_idp(f"sqlite:///{tmp_path_factory.mktemp('attack')}/idp.db", host="localhost",
                       raw={"outbox": {"manual": True}})
    yield server
    server.stop()


def password_step(idp, email: str) -> requests.Response:
    http = requests.Session()
    page = http.get(f"{idp.url}/signin?next=/account")
    page = http.post(page.url, data={"csrf_token": csrf_token(page.text), "identifier": email})
    page = http.post(page.url, data={"csrf_token": csrf_token(page.text), "password": GOOD})
    page.http = http
    return page


def passkey_options(page: requests.Response) -> dict:
    return json.loads(re.search(r'id="passkey-options">(.*?)</script>', page.text, re.S).group(1))


def answer(page: requests.Response, assertion: dict) -> requests.Response:
    return page.http.post(page.url, data={"csrf_token": csrf_token(page.text), "response": json.dumps(assertion)})



def account_with_a_passkey(idp, email: str) -> SoftKey:
    make_user(idp.app, email, GOOD)
    http = password_step(idp, email).http  # signed in with the password alone: no factor yet
    prove_mailbox(idp, http, http.get(f"{idp.url}/account/confirm-address/passkey"), email)
    page = http.get(f"{idp.url}/account/passkeys")
    options = http.post(f"{idp.url}/account/passkeys/options", data={"csrf_token": csrf_token(page.text)}).json()
    key = SoftKey(idp.url, ub64(options["user"]["id"]))
    added = http.post(f"{idp.url}/account/passkeys", data={"csrf_token": csrf_token(page.text), "name": "k",
                                                           "response": json.dumps(key.attestation(options))})
    assert added.status_code == 200
    return key


def test_a_second_factor_assertion_completes_only_the_sign_in_it_was_made_for(idp):
    key = account_with_a_passkey(idp, "pk-binding@example.org")
    first = password_step(idp, "pk-binding@example.org")   # sign-in A, waiting for the passkey
    second = password_step(idp, "pk-binding@example.org")  # sign-in B, in another browser
    done = answer(first, key.assertion(passkey_options(second)["challenge"]))
    assert done.status_code == 400 and "/account" not in done.url, "an assertion for sign-in B completed sign-in A"


def test_a_second_sign_in_does_not_void_the_first_ones_ceremony(idp):
    key = account_with_a_passkey(idp, "pk-two@example.org")
    owner = password_step(idp, "pk-two@example.org")
    challenge = passkey_options(owner)["challenge"]
    password_step(idp, "pk-two@example.org")  # a thief holding the password opens the passkey step too
    done = answer(owner, key.assertion(challenge))
    assert done.url.endswith("/account"), done.url
