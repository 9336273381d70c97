"""TOTP second factor: enrolment, the extra sign-in step, amr, replay, recovery codes, brute force,
and clients that require it."""

from __future__ import annotations

import base64
import json
import re
import secrets
import time
from datetime import datetime
from urllib.parse import parse_qs, urlencode, urljoin, urlsplit

import pyotp
import requests

from tests.idp.helpers import code_after_sign_in, csrf_token, make_client, make_user, pkce, prove_mailbox
from tests.idp.lifecycle.conftest import PORTAL

GOOD = "Bonne-Passe-2026"


def claims_of(jwt: str) -> dict:
    payload = jwt.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def enrol(http: requests.Session, idp, email: str, path: str = "/account/totp") -> tuple[str, list[str], requests.Response]:
    """Enrol; the code used is kept in ``enrol.last_code`` (a replay test reuses exactly it)."""
    idp_url = idp.url
    page = http.get(f"{idp_url}{path}")
    if "/confirm-address/" in page.url:  # the account's first factor: the code emailed to it first
        page = prove_mailbox(idp, http, page, email)
    secret = re.search(r'<code class="secret">([A-Z2-7]+)</code>', page.text).group(1)
    qr = http.get(f"{idp_url}/account/totp/qr.svg")
    assert qr.headers["Content-Type"].startswith("image/svg+xml") and b"<svg" in qr.content
    wrong = http.post(page.url, data={"csrf_token": csrf_token(page.text), "code": "000000"})
    assert wrong.status_code == 400 and "code n&#39;est pas valable" in wrong.text
    enrol.last_code = pyotp.TOTP(secret).now()
    done = http.post(page.url, data={"csrf_token": csrf_token(page.text), "code": enrol.last_code})
    assert done.status_code == 200 and "Vos codes de secours" in done.text
    codes = re.findall(r"<li><code>([0-9a-f]{6}-[0-9a-f]{6})</code></li>", done.text)
    assert len(codes) == 10
    return secret, codes, done


def start_portal_sign_in(idp, client, email: str, password: str, http: requests.Session | None = None):
    """Up to the answer to the password step; returns (browser, response, verifier)."""
    http = http or requests.Session()
    verifier, challenge = pkce()
    params = {"response_type": "code", "client_id": client[0], "redirect_uri": f"{PORTAL}/callback",
              "scope": "openid email", "state": "s", "nonce": "n", "code_challenge": challenge,
              "code_challenge_method": "S256"}
    page = http.get(f"{idp.url}/authorize?{urlencode(params)}")
    page = http.post(page.url, data={"csrf_token": csrf_token(page.text), "identifier": email})
    answer = http.post(page.url, data={"csrf_token": csrf_token(page.text), "password": password})
    return http, answer, verifier


def finish(http: requests.Session, response: requests.Response) -> dict:
    """Follow redirects until the portal's callback; return its query parameters."""
    while response.status_code in (301, 302, 303):
        location = urljoin(response.url, response.headers["Location"])
        if location.startswith(PORTAL):
            return parse_qs(urlsplit(location).query)
        response = http.get(location, allow_redirects=False)
    raise AssertionError(f"stopped at {response.url} ({response.status_code})")


def exchange(idp, client, code: str, verifier: str) -> dict:
    answer = requests.post(f"{idp.url}/token", data={"grant_type": "authorization_code", "code": code,
                                                      "redirect_uri": f"{PORTAL}/callback", "code_verifier": verifier},
                           auth=client)
    assert answer.status_code == 200, answer.text
    return claims_of(answer.json()["id_token"])


def signed_in(idp, email: str) -> requests.Session:
    http = requests.Session()
    page = http.get(f"{idp.url}/signin?next=/account")
    page = http.post(page.url, data={"csrf_token": csrf_token(page.text), "identifier": email})
    page = http.post(page.url, data={"csrf_token": csrf_token(page.text), "password": GOOD})
    assert page.url.endswith("/account")
    return http


def test_enrolment_then_sign_in_with_a_code_and_amr(idp, devinbox, portal_client):
    email = f"totp-{secrets.token_hex(4)}@example.org"
    make_user(idp.app, email, GOOD)
    secret, codes, _done = enrol(signed_in(idp, email), idp, email)
    subjects = sorted(m["subject"] for m in devinbox.wait_for(email, count=2))
    assert subjects[0] == "Validation en deux étapes activée" and subjects[1] == "Votre code de confirmation"

    http, answer, verifier = start_portal_sign_in(idp, portal_client, email, GOOD)
    assert "/totp" in answer.url and answer.status_code == 200
    # half-signed-in: neither the account page nor another client is reachable yet
    assert http.get(f"{idp.url}/account", allow_redirects=False).status_code == 302
    token = csrf_token(answer.text)
    replay = http.post(answer.url, data={"csrf_token": token, "code": enrol.last_code}, allow_redirects=False)
    assert replay.status_code == 400, "the enrolment's code cannot be used a second time"
    next_code = pyotp.TOTP(secret).at(time.time() + 30)
    accepted = http.post(answer.url, data={"csrf_token": token, "code": next_code}, allow_redirects=False)
    params = finish(http, accepted)
    claims = exchange(idp, portal_client, params["code"][0], verifier)
    assert {"pwd", "otp", "mfa"} <= set(claims["amr"])
    assert http.get(f"{idp.url}/account", allow_redirects=False).status_code == 200

    # a recovery code works once
    http2, answer2, _ = start_portal_sign_in(idp, portal_client, email, GOOD)
    used = http2.post(answer2.url, data={"csrf_token": csrf_token(answer2.text), "code": codes[0]},
                      allow_redirects=False)
    assert "code" in finish(http2, used)
    http3, answer3, _ = start_portal_sign_in(idp, portal_client, email, GOOD)
    again = http3.post(answer3.url, data={"csrf_token": csrf_token(answer3.text), "code": codes[0]})
    assert again.status_code == 400


def test_second_factor_brute_force_is_slowed_down(idp, portal_client):
    email = f"brute-{secrets.token_hex(4)}@example.org"
    make_user(idp.app, email, GOOD)
    enrol(signed_in(idp, email), idp, email)
    http, answer, _ = start_portal_sign_in(idp, portal_client, email, GOOD)
    token = csrf_token(answer.text)
    statuses = [http.post(answer.url, data={"csrf_token": token, "code": f"{n:06d}"}).status_code for n in range(7)]
    assert statuses[:5] == [400] * 5 and statuses[-1] == 429


def unused_code(secret: str, used: set[str]) -> str:
    """A code the IdP accepts now (this time step or a neighbour) that no earlier step of the test used."""
    totp = pyotp.TOTP(secret)
    now = totp.timecode(datetime.now())
    code = next(c for c in (totp.generate_otp(now + d) for d in (0, 1, -1)) if c not in used)
    used.add(code)
    return code


def signed_out_keeping_the_device(http: requests.Session) -> None:
    for cookie in [c for c in http.cookies if c.name == "idp_sid"]:
        http.cookies.clear(cookie.domain, cookie.path, cookie.name)


def guess_codes_for_a_while(idp, client, email: str, secret: str):
    """A thief with the password guesses codes, one each time the wait is over, until the throttle
    refuses even the right code; returns that refusal."""
    thief, page, _ = start_portal_sign_in(idp, client, email, GOOD)
    assert "/totp" in page.url
    token = csrf_token(page.text)
    redis = idp.app.extensions["redis"]
    for n in range(9):
        if n >= 5:  # the wait after the free attempts has passed (as it does for a patient thief)
            for key in redis.scan_iter("idp:throttle:totp:*"):
                redis.hset(key, "last", 0)
        assert thief.post(page.url, data={"csrf_token": token, "code": f"{n:06d}"}).status_code == 400
    slowed = thief.post(page.url, data={"csrf_token": token, "code": pyotp.TOTP(secret).now()})
    assert slowed.status_code == 429
    return slowed


def test_a_thief_guessing_codes_never_holds_the_owner_back_on_her_own_browser(idp, portal_client):
    email = f"owner-{secrets.token_hex(4)}@example.org"
    make_user(idp.app, email, GOOD)
    secret, _codes, _done = enrol(signed_in(idp, email), idp, email)
    used = {enrol.last_code}
    # the owner signs in with her code on her browser, which is remembered for it
    owner, answer, _ = start_portal_sign_in(idp, portal_client, email, GOOD)
    accepted = owner.post(answer.url, data={"csrf_token": csrf_token(answer.text), "code": unused_code(secret, used)},
                          allow_redirects=False)
    assert "code" in finish(owner, accepted)
    signed_out_keeping_the_device(owner)

    # the thief has the password and guesses codes, until even the right one is refused
    slowed = guess_codes_for_a_while(idp, portal_client, email, secret)
    assert re.search(r"Trop de tentatives\. Réessayez dans \d+ secondes\.", slowed.text)

    # her own browser: the right code goes through at once
    owner, answer, verifier = start_portal_sign_in(idp, portal_client, email, GOOD, http=owner)
    assert "/totp" in answer.url
    accepted = owner.post(answer.url, data={"csrf_token": csrf_token(answer.text), "code": unused_code(secret, used)},
                          allow_redirects=False)
    assert accepted.status_code != 429, accepted.text
    claims = exchange(idp, portal_client, finish(owner, accepted)["code"][0], verifier)
    assert {"pwd", "otp", "mfa"} <= set(claims["amr"])

    # any other browser, even one the password made known (a thief clearing her cookies), waits as before
    stranger = requests.Session()
    stranger.cookies.set("lang", "en")
    stranger, page, _ = start_portal_sign_in(idp, portal_client, email, GOOD, http=stranger)
    assert "/totp" in page.url and stranger.cookies.get("idp_device")
    refused = stranger.post(page.url, data={"csrf_token": csrf_token(page.text), "code": pyotp.TOTP(secret).now()})
    assert refused.status_code == 429 and re.search(r"Too many attempts\. Try again in \d+ seconds\.", refused.text)


def test_a_browser_where_another_accounts_factor_was_proven_is_unknown_for_this_one(idp, portal_client):
    victim, mallory = (f"{who}-{secrets.token_hex(4)}@example.org" for who in ("victim", "mallory"))
    make_user(idp.app, victim, GOOD)
    make_user(idp.app, mallory, GOOD)
    secret, _codes, _done = enrol(signed_in(idp, victim), idp, victim)
    # mallory's own browser, remembered for her own second factor (her enrolment proved it there)
    own = signed_in(idp, mallory)
    enrol(own, idp, mallory)
    signed_out_keeping_the_device(own)
    guess_codes_for_a_while(idp, portal_client, victim, secret)
    # from her browser, and with its cookie altered, the victim's account is as slow as from any other
    assert guess_attempt(idp, portal_client, victim, secret, own).status_code == 429
    genuine = next(c for c in own.cookies if c.name == "idp_device")
    own.cookies.clear(genuine.domain, genuine.path, genuine.name)
    own.cookies.set(genuine.name, genuine.value[:-4] + "AAAA", domain=genuine.domain, path=genuine.path)
    assert guess_attempt(idp, portal_client, victim, secret, own).status_code == 429


def guess_attempt(idp, client, email: str, secret: str, http: requests.Session) -> requests.Response:
    http, page, _ = start_portal_sign_in(idp, client, email, GOOD, http=http)
    return http.post(page.url, data={"csrf_token": csrf_token(page.text), "code": pyotp.TOTP(secret).now()})


def test_the_wait_is_said_in_the_singular_for_one_second(idp):
    from idp.flows.login import too_many_attempts

    for lang, one, two in (("fr", "Réessayez dans 1 seconde.", "Réessayez dans 2 secondes."),
                           ("en", "Try again in 1 second.", "Try again in 2 seconds.")):
        with idp.app.test_request_context(f"/?lang={lang}"):
            assert too_many_attempts(1).endswith(one) and too_many_attempts(2).endswith(two)


def test_a_client_that_requires_a_second_factor_makes_the_user_enrol(idp):
    client = make_client(idp.app, redirect_uris=[f"{PORTAL}/callback"], first_party=True,
                         policy={"require_mfa": True})
    email = f"required-{secrets.token_hex(4)}@example.org"
    make_user(idp.app, email, GOOD)
    http, answer, verifier = start_portal_sign_in(idp, client, email, GOOD)
    assert "/confirm-address/totp" in answer.url, "the first factor is bound only once the mailbox is proven"
    setup = prove_mailbox(idp, http, answer, email)
    assert "/totp/setup" in setup.url
    _secret, _codes, done = enrol(http, idp, email, path=urlsplit(setup.url).path)
    next_url = re.search(r'class="button" href="([^"]+)"', done.text).group(1)
    params = finish(http, http.get(urljoin(idp.url, next_url), allow_redirects=False))
    assert "otp" in exchange(idp, client, params["code"][0], verifier)["amr"]


def test_turning_the_second_factor_off_needs_the_password(idp):
    email = f"off-{secrets.token_hex(4)}@example.org"
    make_user(idp.app, email, GOOD)
    http = signed_in(idp, email)
    enrol(http, idp, email)
    page = http.get(f"{idp.url}/account")
    refused = http.post(f"{idp.url}/account/totp/disable", data={"csrf_token": csrf_token(page.text),
                                                                  "current_password": "Wrong-1a"})
    assert refused.status_code == 400
    assert "Activée" in http.get(f"{idp.url}/account").text
    http.post(f"{idp.url}/account/totp/disable", data={"csrf_token": csrf_token(page.text), "current_password": GOOD})
    assert "Désactivée." in http.get(f"{idp.url}/account").text


def test_the_password_alone_cannot_replace_the_second_factor(idp, portal_client):
    """Finding 2 (docs/threat-model.md): an attacker with the stolen password, stopped at the code
    step, goes to the in-sign-in enrolment page instead. It must neither hand out a new secret nor
    accept one; the victim's own authenticator keeps working."""
    email = f"stolen-{secrets.token_hex(4)}@example.org"
    make_user(idp.app, email, GOOD)
    victim_secret, _codes, _done = enrol(signed_in(idp, email), idp, email)

    attacker, answer, _verifier = start_portal_sign_in(idp, portal_client, email, GOOD)
    assert "/totp" in answer.url
    setup = answer.url.replace("/totp", "/totp/setup")
    page = attacker.get(setup, allow_redirects=False)
    assert page.status_code == 302 and page.headers["Location"].endswith(urlsplit(answer.url).path)
    attacker_secret = pyotp.random_base32()
    posted = attacker.post(setup, data={"csrf_token": csrf_token(answer.text),
                                        "code": pyotp.TOTP(attacker_secret).now()}, allow_redirects=False)
    assert posted.status_code == 302 and "Vos codes de secours" not in posted.text
    assert attacker.get(f"{idp.url}/account", allow_redirects=False).status_code == 302  # still half signed in
    assert attacker.get(f"{idp.url}/account/totp", allow_redirects=False).status_code == 302

    victim, challenge, verifier = start_portal_sign_in(idp, portal_client, email, GOOD)
    code = pyotp.TOTP(victim_secret).at(time.time() + 30)  # the next step: the enrolment used this one
    accepted = victim.post(challenge.url, data={"csrf_token": csrf_token(challenge.text), "code": code},
                           allow_redirects=False)
    assert "otp" in exchange(idp, portal_client, finish(victim, accepted)["code"][0], verifier)["amr"]


def test_turning_the_second_factor_on_ends_the_sessions_opened_without_it(idp, portal_client):
    """Outside review: a session and tokens obtained with the password alone (perhaps a thief's)
    kept working after the owner enabled the second factor."""
    email = f"on-{secrets.token_hex(4)}@example.org"
    make_user(idp.app, email, GOOD)
    code, verifier = code_after_sign_in(idp, portal_client[0], f"{PORTAL}/callback", email, GOOD, "openid email")
    tokens = requests.post(f"{idp.url}/token", auth=portal_client, data={
        "grant_type": "authorization_code", "code": code,
        "redirect_uri": f"{PORTAL}/callback", "code_verifier": verifier}).json()
    bearer = {"Authorization": f"Bearer {tokens['access_token']}"}
    assert requests.get(f"{idp.url}/userinfo", headers=bearer).status_code == 200
    owner = signed_in(idp, email)
    enrol(owner, idp, email)
    assert requests.get(f"{idp.url}/userinfo", headers=bearer).status_code == 401
    assert owner.get(f"{idp.url}/account", allow_redirects=False).status_code == 200, "the owner's own session stays"


def test_turning_the_second_factor_off_ends_the_other_sessions(idp):
    """Whoever copied the TOTP secret (a photographed QR code, a synced app on a lost phone) may
    hold one of the account's sessions: turning the app off ends every session but this one."""
    email = f"off-others-{secrets.token_hex(4)}@example.org"
    make_user(idp.app, email, GOOD)
    http = signed_in(idp, email)
    secret, _codes, _done = enrol(http, idp, email)
    other = requests.Session()
    page = other.get(f"{idp.url}/signin?next=/account")
    page = other.post(page.url, data={"csrf_token": csrf_token(page.text), "identifier": email})
    page = other.post(page.url, data={"csrf_token": csrf_token(page.text), "password": GOOD})
    page = other.post(page.url, data={"csrf_token": csrf_token(page.text),
                                      "code": pyotp.TOTP(secret).at(time.time() + 30)})
    assert page.url.endswith("/account")  # the second device is signed in with a code

    overview = http.get(f"{idp.url}/account")
    assert "Vos sessions ouvertes sur d'autres appareils seront fermées" in overview.text  # said before
    done = http.post(f"{idp.url}/account/totp/disable", data={"csrf_token": csrf_token(overview.text),
                                                               "current_password": GOOD})
    assert "L'application d'authentification est désactivée. Vos autres sessions ont été fermées." in done.text
    assert other.get(f"{idp.url}/account", allow_redirects=False).status_code == 302  # ended
    assert http.get(f"{idp.url}/account", allow_redirects=False).status_code == 200  # this one goes on
