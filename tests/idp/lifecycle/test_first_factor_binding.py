"""Outside review S3: a thief holding the password of an account that has no second factor yet
must not bind *their* factor to it (and so gain amr mfa, a client requiring it, the operators'
console), nor move the account to their own address first. The code emailed to the account's
address, given in the same browser, is what they lack (docs/threat-model.md, S3)."""

from __future__ import annotations

import secrets
from urllib.parse import urlsplit

import pyotp
import requests

from tests.idp.helpers import csrf_token, mailbox_code, make_client, make_user, prove_mailbox
from tests.idp.lifecycle.conftest import PORTAL
from tests.idp.lifecycle.test_second_factor import GOOD, signed_in, start_portal_sign_in


def new_account(idp, prefix: str) -> str:
    email = f"{prefix}-{secrets.token_hex(4)}@example.org"
    make_user(idp.app, email, GOOD)
    return email


def totp_enabled(idp, email: str) -> bool:
    from idp.services import accounts, mfa

    with idp.app.app_context():
        return mfa.is_enabled(accounts.find_by_identifier(email).id)


def queued_for(idp, address: str) -> list[str]:
    from idp.storage.sql.outbox import OutboxMessage

    with idp.app.extensions["db"].session() as session:
        return [m.subject for m in session.query(OutboxMessage).filter_by(recipient=address)]


def post(http: requests.Session, url: str, page: requests.Response, **fields) -> requests.Response:
    return http.post(url, data={"csrf_token": csrf_token(page.text), **fields}, allow_redirects=False)


def test_a_stolen_password_cannot_bind_the_thiefs_authenticator_from_the_account_page(idp):
    email = new_account(idp, "thief-totp")
    thief = signed_in(idp, email)
    asked = thief.get(f"{idp.url}/account/totp")
    assert "/account/confirm-address/totp" in asked.url and "code class=\"secret\"" not in asked.text
    # straight to the enrolment form, with a correct code of the thief's own app: refused, nothing bound
    thief_app = pyotp.TOTP(pyotp.random_base32())
    answer = post(thief, f"{idp.url}/account/totp", asked, code=thief_app.now())
    assert answer.status_code == 302 and "/confirm-address/totp" in answer.headers["Location"]
    assert not totp_enabled(idp, email)
    # guessing the emailed code: five tries, then even the right one no longer works
    wrong = [post(thief, asked.url, asked, code=f"{n:08d}").status_code for n in range(5)]
    assert wrong == [400] * 5
    assert post(thief, asked.url, asked, code=mailbox_code(idp.app, email)).status_code == 400
    assert thief.get(f"{idp.url}/account/totp").url.endswith("/confirm-address/totp")


def test_the_emailed_code_works_only_in_the_browser_that_asked_for_it(idp):
    email = new_account(idp, "bound-code")
    owner, thief = signed_in(idp, email), signed_in(idp, email)
    owner.get(f"{idp.url}/account/totp")  # the owner's browser asks: the code goes to the mailbox
    code = mailbox_code(idp.app, email)
    page = thief.get(f"{idp.url}/account/totp")  # the thief's browser asks its own
    refused = post(thief, page.url, page, code=code)
    assert refused.status_code == 400, "a code read for another session is refused"
    assert "/confirm-address/" in thief.get(f"{idp.url}/account/totp").url


def test_a_client_requiring_a_second_factor_gets_none_from_a_password_alone(idp):
    client = make_client(idp.app, redirect_uris=[f"{PORTAL}/callback"], first_party=True, policy={"require_mfa": True})
    email = new_account(idp, "thief-signin")
    http, answer, _verifier = start_portal_sign_in(idp, client, email, GOOD)
    assert "/confirm-address/totp" in answer.url
    setup = answer.url.replace("/confirm-address/totp", "/totp/setup")
    skipped = http.get(setup, allow_redirects=False)
    assert skipped.status_code == 302 and "/confirm-address/totp" in skipped.headers["Location"]
    posted = post(http, setup, answer, code=pyotp.TOTP(pyotp.random_base32()).now())
    assert posted.status_code == 302 and "codes de secours" not in posted.text
    assert not totp_enabled(idp, email)
    # the passkey ceremony cannot start either
    options = http.post(f"{idp.url}/account/passkeys/options", data={"csrf_token": csrf_token(answer.text)})
    assert options.status_code == 403 and options.json()["error"] == "mailbox_proof_required"


def test_the_owner_binds_their_factor_once_the_mailbox_is_proven(idp):
    email = new_account(idp, "owner")
    owner = signed_in(idp, email)
    setup = prove_mailbox(idp, owner, owner.get(f"{idp.url}/account/totp"), email)
    assert urlsplit(setup.url).path == "/account/totp" and 'class="secret"' in setup.text
    secret = setup.text.split('class="secret">')[1].split("<")[0]
    done = post(owner, setup.url, setup, code=pyotp.TOTP(secret).now())
    assert done.status_code == 200 and "Vos codes de secours" in done.text and totp_enabled(idp, email)


def test_the_proof_serves_one_change(idp):
    email = new_account(idp, "one-change")
    owner = signed_in(idp, email)
    page = prove_mailbox(idp, owner, owner.get(f"{idp.url}/account/email"), email)
    moved = post(owner, f"{idp.url}/account/email", page, new_email=f"new-{secrets.token_hex(4)}@example.org",
                 current_password=GOOD)
    assert moved.status_code == 200
    assert "/confirm-address/email" in owner.get(f"{idp.url}/account/email").url, "a second change asks again"


def test_a_stolen_password_cannot_move_the_account_to_the_thiefs_address(idp):
    email = new_account(idp, "thief-move")
    theirs = f"thief-{secrets.token_hex(4)}@example.org"
    thief = signed_in(idp, email)
    page = thief.get(f"{idp.url}/account/email")
    assert "/account/confirm-address/email" in page.url
    answer = post(thief, f"{idp.url}/account/email", page, new_email=theirs, current_password=GOOD)
    assert answer.status_code == 302 and "/confirm-address/email" in answer.headers["Location"]
    assert not queued_for(idp, theirs), "no confirmation link left for the thief's address"


def test_codes_cannot_be_asked_for_without_end(idp):
    email = new_account(idp, "flood")
    http = signed_in(idp, email)
    page = http.get(f"{idp.url}/account/totp")
    from idp.services import mailbox_proof

    statuses = []  # the page sent the first code; each "new code" is one more
    for _ in range(mailbox_proof.SENDS_PER_HOUR):
        with idp.app.app_context():  # the minute between two codes, as if it had passed
            idp.app.extensions["redis"].hset(_code_key_of(http), "sent_at", 0)
        statuses.append(post(http, page.url, page, action="resend").status_code)
    assert statuses == [200] * (mailbox_proof.SENDS_PER_HOUR - 1) + [429]


def _code_key_of(http: requests.Session) -> str:
    from idp.services import sessions

    return f"idp:mailbox-code:{sessions.sid_of(http.cookies.get(sessions.COOKIE))}"


def test_a_password_holders_own_requests_do_not_use_up_the_owners_codes(idp):
    from idp.services import mailbox_proof

    email = new_account(idp, "share")
    thief = signed_in(idp, email)
    page = thief.get(f"{idp.url}/account/totp")
    for _ in range(mailbox_proof.SENDS_PER_HOUR):  # the thief's session uses up its own share
        idp.app.extensions["redis"].hset(_code_key_of(thief), "sent_at", 0)
        post(thief, page.url, page, action="resend")
    assert post(thief, page.url, page, action="resend").status_code == 429
    owner = signed_in(idp, email)
    asked = owner.get(f"{idp.url}/account/totp")
    assert asked.status_code == 200 and "a été envoyé" in asked.text
    assert "/account/totp" in prove_mailbox(idp, owner, asked, email).url
