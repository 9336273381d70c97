"""What an attacker tries against passkeys, each refused: adding their own passkey with a stolen
password, presenting a passkey of another account, replaying a captured assertion, using a cloned
authenticator (its signature counter did not move on), and a phishing site relaying the ceremony
(another origin, another RP id). Each test fails when its check is removed (see the threat model)."""

from __future__ import annotations

import base64
import hashlib
import json
import re
import secrets
from html import unescape
from urllib.parse import parse_qs

import pytest
import requests
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from idp.storage.sql.models import AuditEvent
from idp.storage.sql.passkeys import Passkey
from shared.appkit import get_db
from tests.idp.helpers import csrf_token, make_user
from tests.idp.passkeys.conftest import (
    GOOD,
    Authenticator,
    add_passkey,
    password_only_session,
    sign_in_with_password,
    sign_out,
    use_passkey,
    without_autofill,
)

pytestmark = pytest.mark.browser
EXPIRED = "Cette demande a expiré ou a déjà servi."
NOT_THIS_ACCOUNT = "Cette clé d&#39;accès n&#39;est pas enregistrée pour ce compte."
NOT_THIS_SITE = "Cette clé d&#39;accès n&#39;a pas pu être vérifiée pour ce site."


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def forged_assertion(credential: dict, challenge: str, origin: str, rp_id: str, flags: int = 0x05,
                     counter: int = 1000) -> str:
    """An assertion signed with the credential's private key (read from the virtual authenticator),
    over our challenge, for the origin and RP id given: what a relaying or modified client sends."""
    key = serialization.load_der_private_key(base64.b64decode(credential["privateKey"]), password=None)
    client_data = json.dumps({"type": "webauthn.get", "challenge": challenge, "origin": origin,
                              "crossOrigin": False}).encode()
    authenticator_data = hashlib.sha256(rp_id.encode()).digest() + bytes([flags]) + counter.to_bytes(4, "big")
    signed = authenticator_data + hashlib.sha256(client_data).digest()
    signature = key.sign(signed, ec.ECDSA(hashes.SHA256())) if isinstance(key, ec.EllipticCurvePrivateKey) \
        else key.sign(signed)  # Ed25519, the first algorithm we offer
    credential_id = b64url(base64.b64decode(credential["credentialId"]))
    return json.dumps({"id": credential_id, "rawId": credential_id, "type": "public-key", "response": {
        "clientDataJSON": b64url(client_data), "authenticatorData": b64url(authenticator_data),
        "signature": b64url(signature), "userHandle": b64url(base64.b64decode(credential["userHandle"]))},
        "clientExtensionResults": {}})


def person_with_passkey(idp, page, name: str = "Téléphone") -> tuple[str, Authenticator]:
    email = f"pk-{secrets.token_hex(4)}@example.org"
    make_user(idp.app, email, GOOD)
    without_autofill(page)
    authenticator = Authenticator(page)
    sign_in_with_password(page, idp.url, email, next_path="/account/passkeys")
    add_passkey(page, idp, name)
    sign_out(page)
    return email, authenticator


def passkeys_of(idp, email: str) -> list[Passkey]:
    from idp.services import accounts

    with idp.app.app_context():
        account = accounts.find_by_identifier(email)
        with get_db().session() as db:
            return db.query(Passkey).filter(Passkey.account_id == account.id).all()


def events_of(idp, email: str, kind: str) -> list[AuditEvent]:
    from idp.services import accounts

    with idp.app.app_context():
        account = accounts.find_by_identifier(email)
        with get_db().session() as db:
            return db.query(AuditEvent).filter(AuditEvent.account_id == account.id, AuditEvent.kind == kind).all()


def test_a_stolen_password_cannot_add_the_thiefs_passkey(page, idp):
    email, _ = person_with_passkey(idp, page)
    thief, _second_factor_page = password_only_session(idp.url, email)  # right password, no passkey
    options = thief.post(f"{idp.url}/account/passkeys/options", data={"csrf_token": thief.csrf})
    assert options.status_code == 403 and "challenge" not in options.text
    added = thief.post(f"{idp.url}/account/passkeys", data={"csrf_token": thief.csrf, "name": "Mallory",
                                                            "response": json.dumps({"id": "x"})},
                       allow_redirects=False)
    assert added.status_code == 302 and "/signin" in added.headers["Location"]
    assert [p.name for p in passkeys_of(idp, email)] == ["Téléphone"]


def test_a_passkey_of_another_account_is_not_this_accounts_second_factor(page, idp, chromium):
    victim, _ = person_with_passkey(idp, page)
    context = chromium.new_context(locale="fr-FR")
    try:
        mallory_page = context.new_page()
        person_with_passkey(idp, mallory_page, "Mallory")  # Mallory's own account and passkey
        sign_in_with_password(mallory_page, idp.url, victim)  # she knows the victim's password
        mallory_page.get_by_role("heading", name="Validation en deux étapes").wait_for()
        # her authenticator answers the victim's challenge with her own (discoverable) passkey
        mallory_page.evaluate("""async () => {
            const o = JSON.parse(document.getElementById('passkey-options').textContent);
            const b = s => Uint8Array.from(atob(s.replace(/-/g, '+').replace(/_/g, '/')), c => c.charCodeAt(0));
            const t = x => btoa(String.fromCharCode(...new Uint8Array(x))).replace(/\\+/g, '-').replace(/\\//g, '_').replace(/=+$/, '');
            const c = await navigator.credentials.get({publicKey: {challenge: b(o.challenge), rpId: o.rpId}});
            const r = c.response;
            document.querySelector('input[name=response]').value = JSON.stringify({id: c.id, rawId: t(c.rawId),
              type: c.type, response: {clientDataJSON: t(r.clientDataJSON), authenticatorData: t(r.authenticatorData),
              signature: t(r.signature), userHandle: r.userHandle ? t(r.userHandle) : null}, clientExtensionResults: {}});
            document.getElementById('passkey').submit();
        }""")
        mallory_page.wait_for_load_state()
        mallory_page.get_by_role("alert").wait_for()
        assert unescape(NOT_THIS_ACCOUNT) in mallory_page.locator(".error-summary").inner_text()
        mallory_page.goto(f"{idp.url}/account")
        assert "/signin" in mallory_page.url or "/interaction/" in mallory_page.url  # not the victim's account
    finally:
        context.close()


def test_a_replayed_assertion_meets_no_challenge(page, idp):
    email, _ = person_with_passkey(idp, page)
    captured: list[str] = []

    def capture(route):
        if route.request.method == "POST":
            captured.append(route.request.post_data)
        route.continue_()

    page.route("**/interaction/*/passkey", capture)
    sign_in_with_password(page, idp.url, email)
    use_passkey(page)
    page.get_by_role("heading", name="Mon compte").wait_for()
    response = parse_qs(captured[-1])["response"][0]

    thief, second_factor_page = password_only_session(idp.url, email)
    replay = thief.post(f"{idp.url}{second_factor_page}" if second_factor_page.startswith("/") else second_factor_page,
                        data={"csrf_token": thief.csrf, "response": response}, allow_redirects=False)
    assert replay.status_code == 400 and EXPIRED in replay.text


def test_a_cloned_authenticator_is_refused_by_its_counter(page, idp):
    email, original = person_with_passkey(idp, page)
    copy = original.credentials()[0]  # the key and its counter, copied before the owner uses it again
    sign_in_with_password(page, idp.url, email)
    use_passkey(page)
    page.get_by_role("heading", name="Mon compte").wait_for()
    sign_out(page)

    original.remove()
    clone = Authenticator(page)
    clone.add_credential(copy)
    sign_in_with_password(page, idp.url, email)
    use_passkey(page)
    page.get_by_role("alert").wait_for()
    assert "elle semble avoir été copiée" in page.locator(".error-summary").inner_text()
    assert events_of(idp, email, "passkey_cloned")


@pytest.mark.parametrize("origin,rp_id,accepted", [
    ("http://evil.localhost:{port}", "localhost", False),   # a look-alike site relays our challenge
    ("http://localhost:{port}", "evil.localhost", False),   # an assertion made for another site's RP id
    ("http://localhost:{port}", "localhost", True),         # the same forgery, made right: accepted
])
def test_a_relayed_ceremony_from_another_site_is_refused(page, idp, origin, rp_id, accepted):
    """The assertion is made with the victim's own private key (read from the virtual authenticator),
    as a real-time phishing proxy would obtain it, over the challenge our page issued."""
    email, authenticator = person_with_passkey(idp, page)
    credential = authenticator.credentials()[0]
    http, second_factor_page = password_only_session(idp.url, email)
    challenge_page = http.get(f"{idp.url}{second_factor_page}")
    options = json.loads(unescape(re.search(r'id="passkey-options">(.*?)</script>', challenge_page.text, re.S)
                                  .group(1)))
    port = idp.url.rsplit(":", 1)[1]
    response = forged_assertion(credential, options["challenge"], origin.format(port=port), rp_id)
    answer = http.post(challenge_page.url, data={"csrf_token": http.csrf, "response": response},
                       allow_redirects=False)
    if accepted:
        assert answer.status_code == 302
    else:
        assert answer.status_code == 400 and NOT_THIS_SITE in answer.text
        assert http.get(f"{idp.url}/account", allow_redirects=False).status_code == 302  # not signed in


def test_a_stolen_password_cannot_remove_the_owners_passkey(page, idp):
    email, _ = person_with_passkey(idp, page)
    [passkey] = passkeys_of(idp, email)
    thief, _second_factor_page = password_only_session(idp.url, email)
    removed = thief.post(f"{idp.url}/account/passkeys/{passkey.id}/remove", data={"csrf_token": thief.csrf},
                         allow_redirects=False)
    # two layers refuse it: the page needs a complete session, the service a proven factor
    assert "done=removed" not in removed.headers.get("Location", "")
    assert [p.id for p in passkeys_of(idp, email)] == [passkey.id]


@pytest.mark.parametrize("flags,accepted", [(0x01, False), (0x05, True)])  # UP only / UP and UV
def test_a_passkey_without_user_verification_does_not_sign_in_alone(page, idp, flags, accepted):
    """A found security key, or a phone taken unlocked for a moment, without its PIN or biometrics:
    without the password, the assertion must say the user was verified. Made with the owner's key
    (from the virtual authenticator) as a modified client would send it; the same with UV passes."""
    email, authenticator = person_with_passkey(idp, page)
    credential = authenticator.credentials()[0]
    http = requests.Session()
    start_page = http.get(f"{idp.url}/signin?next=/account")
    uid = start_page.url.rstrip("/").rsplit("/", 1)[1]
    token = csrf_token(start_page.text)
    options = http.post(f"{idp.url}/interaction/{uid}/passkey/options", data={"csrf_token": token}).json()
    response = forged_assertion(credential, options["challenge"], f"http://localhost:{idp.url.rsplit(':', 1)[1]}",
                                "localhost", flags=flags, counter=3000)
    answer = http.post(f"{idp.url}/interaction/{uid}/passkey/signin", data={"csrf_token": token, "response": response},
                       allow_redirects=False)
    if accepted:
        assert answer.status_code == 302
    else:
        assert answer.status_code == 400 and NOT_THIS_SITE in answer.text
        assert http.get(f"{idp.url}/account", allow_redirects=False).status_code == 302
