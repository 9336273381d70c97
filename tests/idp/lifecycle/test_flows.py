"""Account lifecycle over HTTP, with the emails read from the dev inbox: registration, invitation,
reset, email change, deactivation — each good path and each bad input named by the issue."""

from __future__ import annotations

import secrets
import statistics
import time
from datetime import timedelta
from urllib.parse import urlencode

import requests
from sqlalchemy import select, update

from idp.services import accounts, lifecycle
from idp.storage.sql.lifecycle import AccountLink
from idp.storage.sql.models import Account, AuditEvent
from shared.appkit import get_db
from shared.timeutil import utcnow
from tests.idp.helpers import csrf_token, make_user, pkce, prove_mailbox, sign_in_with_requests
from tests.idp.lifecycle.conftest import PORTAL, link_in, post_form

GOOD = "Bonne-Passe-2026"


def unique_email(tag: str) -> str:
    return f"{tag}-{secrets.token_hex(4)}@example.org"


def account_row(idp, email: str) -> Account | None:
    with idp.app.app_context():
        return accounts.find_by_identifier(email)


def authorize_url(idp, client_id: str, **extra) -> str:
    _verifier, challenge = pkce()
    params = {"response_type": "code", "client_id": client_id, "redirect_uri": f"{PORTAL}/callback",
              "scope": "openid email", "state": "s", "nonce": "n", "code_challenge": challenge,
              "code_challenge_method": "S256", **extra}
    return f"{idp.url}/authorize?{urlencode(params)}"


def sign_in_page_answer(idp, email: str, password: str) -> requests.Response:
    """Sign in at the IdP itself; returns the answer to the password step."""
    http = requests.Session()
    page = http.get(f"{idp.url}/signin?next=/account")
    page = http.post(page.url, data={"csrf_token": csrf_token(page.text), "identifier": email})
    return http.post(page.url, data={"csrf_token": csrf_token(page.text), "password": password}, allow_redirects=False)


# -- registration ---------------------------------------------------------------------------------

def test_registration_refuses_each_bad_input_and_creates_nothing(idp, devinbox):
    http = requests.Session()
    email = unique_email("bad")
    cases = [
        ({"email": "", "terms": "yes"}, "Saisissez votre adresse électronique."),
        ({"email": "not-an-address", "terms": "yes"}, "adresse électronique valide"),
        ({"email": email}, "accepter les conditions"),
    ]
    for fields, message in cases:
        response = post_form(http, f"{idp.url}/registration", **fields)
        assert response.status_code == 400, fields
        assert message in response.text, (fields, message)
    assert account_row(idp, email) is None
    assert devinbox.messages(email) == []


def registered_link(idp, devinbox, email: str, http: requests.Session | None = None) -> str:
    response = post_form(http or requests.Session(), f"{idp.url}/registration", given_name="Alex", family_name="Martin", email=email, terms="yes")
    assert response.status_code == 200 and ("Consultez votre messagerie" in response.text
                                            or "Check your mailbox" in response.text)
    return link_in(devinbox.wait_for(email)[0])


def test_activation_refuses_each_weak_password_and_activates_nothing(idp, devinbox):
    email = unique_email("weak")
    link = registered_link(idp, devinbox, email)
    http = requests.Session()
    cases = [
        ({"password": "short1A", "password_confirm": "short1A"}, "au moins 8 caractères"),
        ({"password": "alllowercase1", "password_confirm": "alllowercase1"}, "au moins une lettre majuscule"),
        ({"password": "NoDigitsHere", "password_confirm": "NoDigitsHere"}, "au moins un chiffre"),
        ({"password": "Password1", "password_confirm": "Password1"}, "mots de passe les plus courants"),
        ({"password": GOOD, "password_confirm": GOOD + "x"}, "ne sont pas identiques"),
        ({}, "Saisissez un mot de passe"),
    ]
    for fields, message in cases:
        response = post_form(http, link, **fields)
        assert response.status_code == 400, fields
        assert message in response.text, (fields, message)
    assert account_row(idp, email).status == "pending"


def test_activation_names_every_unmet_rule_in_english(idp, devinbox):
    http = requests.Session()
    http.get(f"{idp.url}/lang/en?next=/registration")
    email = unique_email("en")
    link = registered_link(idp, devinbox, email, http)
    response = post_form(http, link, password="abc", password_confirm="abc")
    assert response.status_code == 400
    for rule in ("at least 8 characters", "at least one digit", "at least one uppercase letter"):
        assert rule in response.text


def test_registration_validation_link_then_sign_in(idp, devinbox):
    http = requests.Session()
    email = unique_email("new")
    response = post_form(http, f"{idp.url}/registration", given_name="Alex", family_name="Martin", email=email, terms="yes")
    assert response.status_code == 200 and "Consultez votre messagerie" in response.text
    row = account_row(idp, email)
    assert row.status == "pending" and row.password_hash is None  # no password before the address is proven
    assert sign_in_page_answer(idp, email, GOOD).status_code == 400

    [message] = devinbox.wait_for(email)
    assert message["subject"] == "Validez votre adresse électronique"
    link = link_in(message)
    page = http.get(link)
    assert page.status_code == 200 and 'name="password_confirm"' in page.text
    assert account_row(idp, email).status == "pending", "showing the page must not use the link"
    activated = post_form(http, link, password=GOOD, password_confirm=GOOD)
    assert activated.status_code == 200 and "Votre compte est activé" in activated.text
    assert account_row(idp, email).status == "active"
    assert sign_in_page_answer(idp, email, GOOD).status_code == 302

    again = requests.get(link)
    assert again.status_code == 410 and "déjà été utilisé" in again.text
    tampered = requests.get(link[:-3] + ("aaa" if not link.endswith("aaa") else "bbb"))
    assert tampered.status_code == 400 and "n'est pas valable" in tampered.text


def test_registering_a_taken_address_says_the_same_and_tells_the_owner(idp, devinbox):
    email = unique_email("taken")
    make_user(idp.app, email, GOOD)
    response = post_form(requests.Session(), f"{idp.url}/registration", given_name="Alex", family_name="Martin", email=email, terms="yes")
    fresh = post_form(requests.Session(), f"{idp.url}/registration", given_name="Alex", family_name="Martin", email=unique_email("free"), terms="yes")
    assert response.status_code == fresh.status_code == 200
    assert "Consultez votre messagerie" in response.text
    [message] = devinbox.wait_for(email)
    assert message["subject"] == "Demande d'inscription"
    with idp.app.app_context(), get_db().session() as session:
        assert session.scalar(select(Account).where(Account.email == email)).status == "active"


def test_a_new_activation_link_supersedes_the_old_one(idp, devinbox):
    email = unique_email("twice")
    post_form(requests.Session(), f"{idp.url}/registration", given_name="Alex", family_name="Martin", email=email, terms="yes")
    first = link_in(devinbox.wait_for(email)[0])
    post_form(requests.Session(), f"{idp.url}/activate", email=email)
    messages = devinbox.wait_for(email, count=2)
    second = link_in(messages[0])
    assert second != first
    assert requests.get(first).status_code == 410
    assert post_form(requests.Session(), second, password=GOOD, password_confirm=GOOD).status_code == 200


# -- invitation by a portal -----------------------------------------------------------------------

def client_token(idp, portal_client, scope="provisioning") -> str:
    client_id, secret = portal_client
    answer = requests.post(f"{idp.url}/token", data={"grant_type": "client_credentials", "scope": scope},
                           auth=(client_id, secret))
    assert answer.status_code == 200, answer.text
    return answer.json()["access_token"]


def test_provisioning_api_refuses_without_the_right_token_or_body(idp, portal_client):
    url = f"{idp.url}/api/provisioning/invitations"
    assert requests.post(url, json={"email": "x@example.org"}).status_code == 401
    assert requests.post(url, json={"email": "x@example.org"},
                         headers={"Authorization": "Bearer forged"}).status_code == 401
    token = client_token(idp, portal_client, scope="openid")  # no provisioning scope, so not made for this API
    refused = requests.post(url, json={"email": "x@example.org"}, headers={"Authorization": f"Bearer {token}"})
    assert refused.status_code == 401 and refused.json()["error"] == "invalid_token"
    token = client_token(idp, portal_client)
    headers = {"Authorization": f"Bearer {token}"}
    for body in ({"email": "nope"}, {}, {"email": "a@example.org", "locale": "de"}, {"email": ["a@example.org"]}):
        assert requests.post(url, json=body, headers=headers).status_code == 400, body
    assert requests.post(url, data="email=a@example.org", headers=headers).status_code == 400
    assert account_row(idp, "a@example.org") is None


def test_invitation_sets_a_password_and_lands_signed_in_on_the_portal(idp, devinbox, portal_client):
    email = unique_email("invited")
    headers = {"Authorization": f"Bearer {client_token(idp, portal_client)}"}
    answer = requests.post(f"{idp.url}/api/provisioning/invitations", json={"email": email, "locale": "en"},
                           headers=headers)
    assert answer.status_code == 201 and answer.json()["status"] == "pending"
    sub = answer.json()["sub"]
    again = requests.post(f"{idp.url}/api/provisioning/invitations", json={"email": email.upper()}, headers=headers)
    assert again.json()["sub"] == sub, "the existing pending account is reused"

    messages = devinbox.wait_for(email, count=2)
    assert all(m["subject"].endswith("invites you to create your account") for m in messages)  # her language
    http = requests.Session()
    # the second invitation replaced the first one's link; which arrives first is up to delivery
    forms = {link_in(m): http.get(link_in(m)) for m in messages}
    live = [link for link, page in forms.items() if page.status_code == 200 and 'name="password_confirm"' in page.text]
    assert len(live) == 1, "one invitation link works: the newest"
    link, form = live[0], forms[live[0]]
    assert '<html lang="en"' in form.text  # the page speaks the invitation's language
    mismatch = http.post(link, data={"csrf_token": csrf_token(form.text), "password": GOOD,
                                     "password_confirm": "Other-Passe-2026"}, allow_redirects=False)
    assert mismatch.status_code == 400 and account_row(idp, email).status == "pending"
    landed = http.post(link, data={"csrf_token": csrf_token(form.text), "password": GOOD, "password_confirm": GOOD},
                       allow_redirects=False)
    assert landed.status_code == 302 and landed.headers["Location"] == f"{PORTAL}/login"
    # the portal's sign-in goes through without a password, for the same subject
    params = sign_in_with_requests(http, authorize_url(idp, portal_client[0]), email, "unused", PORTAL)
    assert "code" in params
    with idp.app.app_context():
        from idp.oidc.claims import pairwise_sub
        from idp.services import clients

        assert pairwise_sub(account_row(idp, email).id, clients.get(portal_client[0])) == sub

    existing = requests.post(f"{idp.url}/api/provisioning/invitations", json={"email": email}, headers=headers)
    assert existing.status_code == 200 and existing.json() == {"sub": sub, "status": "active"}


def test_the_provisioning_api_is_described_in_openapi(idp):
    import yaml

    spec = yaml.safe_load(requests.get(f"{idp.url}/api/provisioning/openapi.yaml").text)
    assert spec["openapi"].startswith("3.1")
    assert "post" in spec["paths"]["/api/provisioning/invitations"]


# -- "Mot de passe oublié ?" ------------------------------------------------------------------------

def strip_token(html: str) -> str:
    import re

    html = re.sub(r'name="csrf_token" value="[^"]+"', "", html)
    return re.sub(r"(pour l'adresse|for the address) [^,]+,", "", html)


def test_recovery_answers_the_same_for_known_and_unknown_addresses(idp, devinbox):
    known = unique_email("known")
    make_user(idp.app, known, GOOD)
    unknown = unique_email("unknown")
    answers = {email: post_form(requests.Session(), f"{idp.url}/recovery", email=email) for email in (known, unknown)}
    assert answers[known].status_code == answers[unknown].status_code == 200
    assert strip_token(answers[known].text) == strip_token(answers[unknown].text)
    assert devinbox.wait_for(known)[0]["subject"] == "Réinitialisation de votre mot de passe"
    assert devinbox.messages(unknown) == []


def test_recovery_takes_the_same_time_for_known_and_unknown_addresses(idp):
    """The account lookup and the email happen after the answer, so their cost cannot show."""
    known = [unique_email("timing") for _ in range(8)]  # one each round: an address is asked for 3 times an hour
    for email in known:
        make_user(idp.app, email, GOOD)
    http = requests.Session()
    token = csrf_token(http.get(f"{idp.url}/recovery").text)
    timings: dict[str, list[float]] = {"known": [], "unknown": []}
    for round_ in range(8):
        pair = [("known", known[round_]), ("unknown", unique_email("nobody"))]
        # alternate who goes first: the request after a known address's competes with its background job
        for label, email in (pair if round_ % 2 else pair[::-1]):
            start = time.perf_counter()
            answer = http.post(f"{idp.url}/recovery", data={"csrf_token": token, "email": email})
            timings[label].append(time.perf_counter() - start)
            assert answer.status_code == 200
    known_median, unknown_median = statistics.median(timings["known"]), statistics.median(timings["unknown"])
    assert abs(known_median - unknown_median) < max(0.02, 0.5 * unknown_median), timings


def test_recovery_answers_before_looking_the_address_up(idp):
    """Deterministic twin of the timing test: with the recovery workers held busy, the answer still
    comes and nothing has been looked up or sent yet; the link is made once the workers are free."""
    import threading

    known = unique_email("after")
    account_id = make_user(idp.app, known, GOOD).id

    def reset_links() -> int:
        with idp.app.app_context(), get_db().session() as session:
            return len(session.scalars(select(AccountLink).where(AccountLink.account_id == account_id,
                                                                 AccountLink.purpose == "reset")).all())

    gate = threading.Event()
    held = [lifecycle._executor.submit(gate.wait, 30) for _ in range(lifecycle.RECOVERY_WORKERS)]
    try:
        answer = post_form(requests.Session(), f"{idp.url}/recovery", email=known)
        assert answer.status_code == 200
        assert reset_links() == 0, "the answer waited for the lookup and the link"
    finally:
        gate.set()
    for worker in held:
        worker.result(10)
    deadline = time.monotonic() + 10
    while reset_links() == 0:
        assert time.monotonic() < deadline, "the recovery job never ran"
        time.sleep(0.02)


def test_reset_link_single_use_expiry_and_everything_revoked(idp, devinbox, portal_client):
    email = unique_email("reset")
    make_user(idp.app, email, GOOD)
    # a signed-in browser and a refresh token issued to the portal before the reset
    browser = requests.Session()
    verifier, challenge = pkce()
    url = authorize_url(idp, portal_client[0], scope="openid offline_access", code_challenge=challenge,
                        prompt="consent")
    params = sign_in_with_requests(browser, url, email, GOOD, PORTAL)
    tokens = requests.post(f"{idp.url}/token", data={
        "grant_type": "authorization_code", "code": params["code"][0], "redirect_uri": f"{PORTAL}/callback",
        "code_verifier": verifier}, auth=portal_client).json()
    assert "refresh_token" in tokens

    post_form(requests.Session(), f"{idp.url}/recovery", email=email)
    link = link_in(devinbox.wait_for(email)[0])
    http = requests.Session()
    weak = post_form(http, link, password="weakpass", password_confirm="weakpass")
    assert weak.status_code == 400 and "au moins un chiffre" in weak.text
    done = post_form(http, link, password="Nouvelle-Passe-7", password_confirm="Nouvelle-Passe-7")
    assert done.status_code == 200 and "toutes vos sessions ont été fermées" in done.text
    assert requests.get(link).status_code == 410

    assert sign_in_page_answer(idp, email, GOOD).status_code == 400
    assert sign_in_page_answer(idp, email, "Nouvelle-Passe-7").status_code == 302
    assert browser.get(f"{idp.url}/account", allow_redirects=False).status_code == 302, "old session ended"
    refreshed = requests.post(f"{idp.url}/token", data={"grant_type": "refresh_token",
                                                         "refresh_token": tokens["refresh_token"]}, auth=portal_client)
    assert refreshed.status_code == 400
    assert devinbox.wait_for(email, count=2)[0]["subject"] == "Votre mot de passe a été modifié"


def test_an_expired_reset_link_is_refused(idp, devinbox):
    email = unique_email("expired")
    make_user(idp.app, email, GOOD)
    post_form(requests.Session(), f"{idp.url}/recovery", email=email)
    link = link_in(devinbox.wait_for(email)[0])
    with idp.app.app_context(), get_db().session() as session:
        account_id = session.scalar(select(Account.id).where(Account.email == email))
        lifetime = session.scalar(select(AccountLink).where(AccountLink.account_id == account_id))
        assert timedelta(minutes=59) < lifetime.expires_at.replace(tzinfo=None) - lifetime.created_at.replace(tzinfo=None) <= timedelta(hours=1)
        session.execute(update(AccountLink).where(AccountLink.account_id == account_id)
                        .values(expires_at=utcnow() - timedelta(seconds=1)))
    page = requests.get(link)
    assert page.status_code == 410 and "expiré" in page.text
    http = requests.Session()
    token = csrf_token(http.get(f"{idp.url}/recovery").text)
    refused = http.post(link, data={"csrf_token": token, "password": "Nouvelle-Passe-7",
                                    "password_confirm": "Nouvelle-Passe-7"})
    assert refused.status_code == 410
    assert sign_in_page_answer(idp, email, GOOD).status_code == 302, "the password is unchanged"


def test_links_are_stored_hashed(idp, devinbox):
    email = unique_email("hashed")
    make_user(idp.app, email, GOOD)
    post_form(requests.Session(), f"{idp.url}/recovery", email=email)
    token = link_in(devinbox.wait_for(email)[0]).rsplit("/", 1)[1]
    with idp.app.app_context(), get_db().session() as session:
        stored = [row.token_hash for row in session.scalars(select(AccountLink))]
    assert token not in stored


# -- email change ----------------------------------------------------------------------------------

def signed_in_browser(idp, email: str, password: str) -> requests.Session:
    http = requests.Session()
    page = http.get(f"{idp.url}/signin?next=/account")
    page = http.post(page.url, data={"csrf_token": csrf_token(page.text), "identifier": email})
    page = http.post(page.url, data={"csrf_token": csrf_token(page.text), "password": password})
    assert page.url.endswith("/account"), page.url
    return http


def address_page(idp, http: requests.Session, email: str) -> requests.Response:
    """The address-change page of an account guarded by its password alone: the code sent to
    the current address comes first."""
    asked = http.get(f"{idp.url}/account/email")
    assert "/account/confirm-address/email" in asked.url, "a password alone never moves the account"
    page = prove_mailbox(idp, http, asked, email)
    assert page.url.endswith("/account/email")
    return page


def test_email_change_revalidates_the_new_address_and_tells_the_old(idp, devinbox):
    old, new = unique_email("old"), unique_email("new")
    make_user(idp.app, old, GOOD)
    http = signed_in_browser(idp, old, GOOD)
    address_page(idp, http, old)
    wrong = post_form(http, f"{idp.url}/account/email", new_email=new, current_password="Wrong-Passe-1")
    assert wrong.status_code == 400 and "mot de passe actuel est incorrect" in wrong.text
    bad = post_form(http, f"{idp.url}/account/email", new_email="nope", current_password=GOOD)
    assert bad.status_code == 400
    sent = post_form(http, f"{idp.url}/account/email", new_email=new, current_password=GOOD)
    assert sent.status_code == 200
    assert "Changement d'adresse électronique demandé" in {m["subject"] for m in devinbox.wait_for(old, count=2)}
    assert account_row(idp, old) is not None, "nothing changes before confirmation"
    link = link_in(devinbox.wait_for(new)[0])
    assert post_form(requests.Session(), link).status_code == 200
    assert account_row(idp, new) is not None and account_row(idp, old) is None
    assert devinbox.wait_for(old, count=3)[0]["subject"] == "Votre adresse électronique a été modifiée"
    assert sign_in_page_answer(idp, new, GOOD).status_code == 302


def test_email_change_to_a_taken_address_changes_nothing(idp, devinbox):
    mine, theirs = unique_email("mine"), unique_email("theirs")
    make_user(idp.app, mine, GOOD)
    make_user(idp.app, theirs, GOOD)
    http = signed_in_browser(idp, mine, GOOD)
    address_page(idp, http, mine)
    answer = post_form(http, f"{idp.url}/account/email", new_email=theirs, current_password=GOOD)
    assert answer.status_code == 200  # same answer: no enumeration from the account page either
    assert devinbox.wait_for(theirs)[0]["subject"] == "Changement d'adresse électronique"
    assert account_row(idp, mine).email == mine


# -- account page, deactivation, audit ----------------------------------------------------------

def test_account_page_lists_sessions_and_ends_one(idp):
    email = unique_email("page")
    make_user(idp.app, email, GOOD)
    first, second = signed_in_browser(idp, email, GOOD), signed_in_browser(idp, email, GOOD)
    page = first.get(f"{idp.url}/account")
    assert page.text.count("Fermer cette session") == 2
    assert first.cookies["idp_sid"] not in page.text and second.cookies["idp_sid"] not in page.text  # never shown
    import re

    from idp.services.sessions import sid_of

    # each session is named by its public id (what relying parties receive as sid), never its cookie
    sids = re.findall(r'href="/account/sessions/([0-9a-f]{43})/end"', page.text)
    assert sorted(sids) == sorted(sid_of(browser.cookies["idp_sid"]) for browser in (first, second))
    for sid in sids:
        confirm = first.get(f"{idp.url}/account/sessions/{sid}/end")
        if "Vous serez déconnecté de cet appareil" not in confirm.text:
            first.post(f"{idp.url}/account/sessions/end", data={"csrf_token": csrf_token(confirm.text), "session": sid})
    assert second.get(f"{idp.url}/account", allow_redirects=False).status_code == 302
    assert first.get(f"{idp.url}/account", allow_redirects=False).status_code == 200
    foreign = first.post(f"{idp.url}/account/sessions/end", data={"csrf_token": csrf_token(page.text), "session": "x" * 43})
    assert foreign.status_code == 404


def test_another_persons_session_id_ends_nothing_from_my_account_page(idp):
    """A session id is public (every relying party of its owner receives it as ``sid``): named on
    someone else's account page, it neither shows nor ends the owner's session."""
    from idp.services.sessions import sid_of

    mine, theirs = unique_email("own"), unique_email("other")
    make_user(idp.app, mine, GOOD)
    make_user(idp.app, theirs, GOOD)
    me, them = signed_in_browser(idp, mine, GOOD), signed_in_browser(idp, theirs, GOOD)
    their_sid = sid_of(them.cookies["idp_sid"])
    assert me.get(f"{idp.url}/account/sessions/{their_sid}/end").status_code == 404
    page = me.get(f"{idp.url}/account")
    refused = me.post(f"{idp.url}/account/sessions/end", data={"csrf_token": csrf_token(page.text), "session": their_sid})
    assert refused.status_code == 404
    assert them.get(f"{idp.url}/account", allow_redirects=False).status_code == 200


def test_password_change_from_the_account_page(idp):
    email = unique_email("chg")
    make_user(idp.app, email, GOOD)
    http, other = signed_in_browser(idp, email, GOOD), signed_in_browser(idp, email, GOOD)
    wrong = post_form(http, f"{idp.url}/account/password", current_password="x", password="Autre-Passe-9",
                      password_confirm="Autre-Passe-9")
    assert wrong.status_code == 400
    ok = post_form(http, f"{idp.url}/account/password", current_password=GOOD, password="Autre-Passe-9",
                   password_confirm="Autre-Passe-9")
    assert ok.status_code == 302
    assert http.get(f"{idp.url}/account", allow_redirects=False).status_code == 200, "this session stays"
    assert other.get(f"{idp.url}/account", allow_redirects=False).status_code == 302, "the others end"


def test_deactivated_account_gets_a_clear_message_and_no_token(idp, portal_client):
    email = unique_email("deact")
    account = make_user(idp.app, email, GOOD)
    browser = signed_in_browser(idp, email, GOOD)
    with idp.app.test_request_context():
        lifecycle.deactivate(account.id, "invalidated_by_admin")
    assert browser.get(f"{idp.url}/account", allow_redirects=False).status_code == 302
    answer = sign_in_page_answer(idp, email, GOOD)
    assert answer.status_code == 403 and "a invalidé votre inscription" in answer.text
    wrong = sign_in_page_answer(idp, email, "Wrong-Passe-1")
    assert "administrateur" not in wrong.text, "nothing is said before the password matched"


def make_member(idp, account_id: str) -> None:
    """An e-services member (seed 002's dormancy is about the e-services portal)."""
    from idp.services import organisations as orgs
    from idp.storage.sql.organisations import Membership, OrganisationStore
    from tests.idp.organisations.conftest import org_data

    with idp.app.extensions["db"].session() as session:
        store = OrganisationStore(session)
        organisation = orgs.create_organisation(store, org_data(f"Mairie {account_id[:8]}", ""))
        store.add(Membership(account_id=account_id, organisation_id=organisation.id, role="user", status="active"))


def test_sixteen_months_without_sign_in_deactivates(idp, devinbox):
    email = unique_email("dormant")
    account = make_user(idp.app, email, GOOD)
    make_member(idp, account.id)
    with idp.app.test_request_context():
        assert lifecycle.deactivate_dormant(utcnow()) == 0 or account_row(idp, email).status == "active"
        lifecycle.deactivate_dormant(utcnow() + timedelta(days=30 * 17))
    assert account_row(idp, email).status == "deactivated"
    answer = sign_in_page_answer(idp, email, GOOD)
    assert answer.status_code == 403 and "16 mois" in answer.text
    (notice,) = [m for m in devinbox.wait_for(email) if m["subject"] == "Votre compte est désactivé"]
    assert "16 mois" in notice["text"] and "/activate" in notice["text"], "told at deactivation, with the way back"
    with idp.app.test_request_context():
        lifecycle.reactivate(account.id)
    assert sign_in_page_answer(idp, email, GOOD).status_code == 302


def test_dormancy_warns_thirty_days_before_and_spares_accounts_outside_e_services(idp, devinbox):
    member, applicant = unique_email("warned"), unique_email("applicant")
    make_member(idp, make_user(idp.app, member, GOOD).id)
    make_user(idp.app, applicant, GOOD)  # an eComms applicant: no organisation membership
    later = utcnow() + timedelta(days=487 - 20)
    with idp.app.test_request_context():
        lifecycle.warn_dormant(later)
        lifecycle.warn_dormant(later + timedelta(days=1))  # once, not every day
    (warning,) = devinbox.wait_for(member)
    assert warning["subject"].startswith("Votre compte sera désactivé le ") and "/account" in warning["text"]
    with idp.app.test_request_context():
        lifecycle.deactivate_dormant(utcnow() + timedelta(days=30 * 17))
    assert account_row(idp, member).status == "deactivated"
    assert account_row(idp, applicant).status == "active"
    assert devinbox.messages(applicant) == []


def test_a_dormant_account_is_shown_a_working_new_link_and_the_link_brings_it_back(idp, devinbox):
    """Seed 002, "Mon compte est désactivé": "cliquez sur le lien d'activation". The sign-in page's
    refusal carries the link to ask for one; /activate sends it to a dormant address (it sent
    nothing) and says the same for an address without an account."""
    email = unique_email("sleepy")
    make_member(idp, make_user(idp.app, email, GOOD).id)
    with idp.app.test_request_context():
        lifecycle.deactivate_dormant(utcnow() + timedelta(days=30 * 17))
    refused = sign_in_page_answer(idp, email, GOOD)
    assert refused.status_code == 403 and "16 mois" in refused.text
    assert 'href="/activate"' in refused.text and "Demander un nouveau lien d&#39;activation" in refused.text
    nobody = unique_email("nobody")
    asked = post_form(requests.Session(), f"{idp.url}/activate", email=email)
    stranger = post_form(requests.Session(), f"{idp.url}/activate", email=nobody)
    assert asked.status_code == stranger.status_code == 200
    assert strip_token(asked.text.replace(email, "X")) == strip_token(stranger.text.replace(nobody, "X")), \
        "the same answer for any address"
    link = link_in(next(m for m in devinbox.wait_for(email, count=2) if "/activate/" in m["text"]))
    assert post_form(requests.Session(), link, password="Reveil-Passe-7", password_confirm="Reveil-Passe-7").status_code == 200
    assert account_row(idp, email).status == "active"
    assert sign_in_page_answer(idp, email, "Reveil-Passe-7").status_code == 302
    with idp.app.test_request_context():
        assert lifecycle.deactivate_dormant(utcnow()) == 0 or account_row(idp, email).status == "active"


def test_asking_for_activation_links_is_throttled_per_address(idp):
    email = unique_email("flood")
    answers = [post_form(requests.Session(), f"{idp.url}/activate", email=email).status_code for _ in range(8)]
    assert answers[0] == 200 and answers[-1] == 400, answers
    assert "Trop de demandes" in post_form(requests.Session(), f"{idp.url}/activate", email=email).text


def test_unused_activation_link_deactivates_and_a_new_link_brings_it_back(idp, devinbox):
    email = unique_email("late")
    post_form(requests.Session(), f"{idp.url}/registration", given_name="Alex", family_name="Martin", email=email, terms="yes")
    devinbox.wait_for(email)
    with idp.app.test_request_context():
        assert lifecycle.expire_activations(utcnow() + timedelta(days=8)) >= 1
    assert account_row(idp, email).status == "deactivated"
    assert sign_in_page_answer(idp, email, GOOD).status_code == 400  # no password was ever set
    post_form(requests.Session(), f"{idp.url}/activate", email=email)
    link = link_in(devinbox.wait_for(email, count=2)[0])
    assert account_row(idp, email).status == "pending"
    assert post_form(requests.Session(), link, password=GOOD, password_confirm=GOOD).status_code == 200
    assert sign_in_page_answer(idp, email, GOOD).status_code == 302


def test_audit_trail_records_security_events_and_the_cli_reads_it(idp, monkeypatch):
    from click.testing import CliRunner

    from idp.cli import main

    email = unique_email("audit")
    make_user(idp.app, email, GOOD)
    sign_in_page_answer(idp, email, "Wrong-Passe-1")
    sign_in_page_answer(idp, email, GOOD)
    with idp.app.app_context(), get_db().session() as session:
        kinds = [e.kind for e in session.scalars(select(AuditEvent).where(
            AuditEvent.account_id == account_row(idp, email).id))]
    assert "sign_in_failed" in kinds and "sign_in" in kinds
    monkeypatch.setenv("DATABASE_URL", idp.app.config["SETTINGS"].database_url)
    result = CliRunner().invoke(main, ["audit", "--account", email, "--kind", "sign_in_failed"])
    assert result.exit_code == 0, result.output
    assert '"kind": "sign_in_failed"' in result.output and '"kind": "sign_in"' not in result.output



def test_sign_in_says_the_same_for_an_unknown_account_and_a_wrong_password(idp, monkeypatch):
    """Same status and page, and the same work: one argon2id verification at the production cost
    for an unknown account too (of a dummy hash), counted rather than timed — a verification at
    the test suite's cheap parameters is lost in HTTP timing noise."""
    import re

    from argon2 import PasswordHasher, extract_parameters

    known = unique_email("enum")
    make_user(idp.app, known, GOOD)

    redis = idp.app.extensions["redis"]

    def answer(email: str) -> tuple[int, str, float]:
        for key in redis.scan_iter("idp:throttle:*"):  # measure verification, not the throttle's delays
            redis.delete(key)
        http = requests.Session()
        page = http.get(f"{idp.url}/signin?next=/account")
        page = http.post(page.url, data={"csrf_token": csrf_token(page.text), "identifier": email})
        start = time.perf_counter()
        response = http.post(page.url, data={"csrf_token": csrf_token(page.text), "password": "Wrong-Passe-1"})
        elapsed = time.perf_counter() - start
        text = re.sub(r'value="[^"]*"|interaction[/=][\w-]+', "", response.text).replace(email, "EMAIL")
        return response.status_code, text, elapsed

    unknown = unique_email("ghost")
    known_answer, unknown_answer = answer(known), answer(unknown)
    assert known_answer[0] == unknown_answer[0] == 400
    assert known_answer[1] == unknown_answer[1]
    assert "Identifiant ou mot de passe incorrect." in known_answer[1]
    verified: list[str] = []  # the stored hash each argon2id verification was made against
    real_verify = PasswordHasher.verify
    monkeypatch.setattr(PasswordHasher, "verify", lambda self, hash_, password: (
        verified.append(hash_), real_verify(self, hash_, password))[1])
    assert answer(known)[0] == 400
    [known_hash] = verified
    verified.clear()
    assert answer(unique_email("ghost"))[0] == 400
    assert len(verified) == 1, "an unknown account costs one argon2id verification too"
    [dummy_hash] = verified
    assert dummy_hash != known_hash
    assert extract_parameters(dummy_hash) == extract_parameters(known_hash), "the dummy costs what a real one costs"


def test_an_address_registered_by_someone_else_is_taken_back_by_its_owner(idp, devinbox, portal_client):
    """Finding 3, account pre-hijacking (docs/threat-model.md): the attacker registers the victim's
    address first, with his own password; the registry then invites her. Her activation asks for
    her own password; the attacker's password opens nothing, before or after."""
    email = unique_email("prehijack")
    attacker_password = "Attacker-Passe-2026"
    squatted = post_form(requests.Session(), f"{idp.url}/registration", given_name="Alex", family_name="Martin", email=email, password=attacker_password,
                         password_confirm=attacker_password, terms="yes")  # a password posted anyway is ignored
    assert squatted.status_code == 200, squatted.text
    assert account_row(idp, email).password_hash is None
    assert sign_in_page_answer(idp, email, attacker_password).status_code == 400
    headers = {"Authorization": f"Bearer {client_token(idp, portal_client)}"}
    invited = requests.post(f"{idp.url}/api/provisioning/invitations", json={"email": email}, headers=headers)
    assert invited.status_code == 201 and invited.json()["status"] == "pending", invited.text

    # the invitation, whichever arrived first (two emails, delivered in any order)
    invitation = next(m for m in devinbox.wait_for(email, count=2) if "vous invite" in m["subject"])
    link = link_in(invitation)
    victim = requests.Session()
    form = victim.get(link)
    assert 'name="password_confirm"' in form.text, "the activation always asks for the owner's password"
    no_password = victim.post(link, data={"csrf_token": csrf_token(form.text)}, allow_redirects=False)
    assert no_password.status_code == 400 and account_row(idp, email).status == "pending"
    landed = victim.post(link, data={"csrf_token": csrf_token(form.text), "password": GOOD, "password_confirm": GOOD},
                         allow_redirects=False)
    assert landed.status_code == 302
    assert sign_in_page_answer(idp, email, attacker_password).status_code == 400
    assert sign_in_page_answer(idp, email, GOOD).status_code == 302


def test_an_invitation_resets_what_another_registration_left_on_the_pending_account(idp, portal_client):
    email = unique_email("names")
    with idp.app.app_context(), get_db().session() as session:
        session.add(Account(email=email, status="pending", given_name="Phone", family_name="THIS NUMBER",
                            password_hash="$argon2id$left-by-an-older-version", locale="fr"))
    headers = {"Authorization": f"Bearer {client_token(idp, portal_client)}"}
    requests.post(f"{idp.url}/api/provisioning/invitations", headers=headers,
                  json={"email": email, "locale": "en", "given_name": "Ada", "family_name": "LOVELACE"})
    row = account_row(idp, email)
    assert (row.given_name, row.family_name, row.password_hash) == ("Ada", "LOVELACE", None)


def test_registration_costs_the_same_work_for_a_taken_and_a_free_address(idp, devinbox, monkeypatch):
    """Issue 15 §4, enumeration by timing: argon2 ran only for new addresses (about 25 ms apart, the
    two timing sets never overlapped). Counted, not timed: no argon2id hash on either path, the
    same answer on both, on the IdP's registration and on the organisations' one."""
    from argon2 import PasswordHasher

    hashed: list[str] = []
    real_hash = PasswordHasher.hash
    monkeypatch.setattr(PasswordHasher, "hash", lambda self, password, **kw: (
        hashed.append(password), real_hash(self, password, **kw))[1])
    taken = unique_email("timing-taken")
    make_user(idp.app, taken, GOOD)
    hashed.clear()

    def register(email: str) -> tuple[int, str, int]:
        before = len(hashed)
        response = post_form(requests.Session(), f"{idp.url}/registration", given_name="Alex", family_name="Martin", email=email, terms="yes")
        return response.status_code, response.text.replace(email, "EMAIL"), len(hashed) - before

    def join(email: str, siren: str) -> tuple[int, int]:
        before = len(hashed)
        response = post_form(requests.Session(), f"{idp.url}/organisations/inscription", role="administrator",
                             organisation_id="new", org_name="Mairie", org_kind="commune", org_siren=siren,
                             org_address_line="1 place de la Mairie", org_postcode="68160", org_city="Lièpvre",
                             legal_rep_name="Anne FAURE", legal_rep_title="Madame la Maire", given_name="Ada",
                             family_name="LOVELACE", email=email, terms="on")
        return response.status_code, len(hashed) - before

    taken_answer, free_answer = register(taken), register(unique_email("timing-free"))
    assert taken_answer[0] == free_answer[0] == 200
    assert taken_answer[2] == free_answer[2] == 0
    assert join(taken, "216801811") == join(unique_email("timing-org"), "216801829") == (200, 0)


def test_registering_an_invited_address_keeps_the_invitation_an_invitation(idp, devinbox, portal_client):
    """Outside review: a registration of the invitee's address replaced the Court's invitation link
    by a plain one; the new link is still the portal's invitation and lands on the portal."""
    email = unique_email("invited-twice")
    headers = {"Authorization": f"Bearer {client_token(idp, portal_client)}"}
    invited = requests.post(f"{idp.url}/api/provisioning/invitations", json={"email": email}, headers=headers)
    assert invited.status_code == 201, invited.text
    devinbox.wait_for(email)
    post_form(requests.Session(), f"{idp.url}/registration", given_name="Alex", family_name="Martin", email=email, terms="yes")
    messages = devinbox.wait_for(email, count=2)
    assert all("vous invite" in message["subject"] for message in messages), "both links are invitations"
    http = requests.Session()
    # the live one (the newer supersedes the older, whatever order the inbox received them in)
    link, form = next((link, page) for link, page in ((link_in(m), http.get(link_in(m))) for m in messages)
                      if page.status_code == 200)
    landed = http.post(link, data={"csrf_token": csrf_token(form.text), "password": GOOD, "password_confirm": GOOD},
                       allow_redirects=False)
    assert landed.status_code == 302 and landed.headers["Location"] == f"{PORTAL}/login"


def test_registration_does_not_flood_one_address_with_emails(idp, devinbox):
    """Outside review: 30 registrations of one address from 30 network addresses sent 30 emails.
    Past three an hour the requester is told to wait (never a silent drop), for any address."""
    email = unique_email("flood")
    answers = [post_form(requests.Session(), f"{idp.url}/registration", given_name="Alex", family_name="Martin", email=email, terms="yes") for _ in range(5)]
    assert [a.status_code for a in answers] == [200, 200, 200, 400, 400]
    assert "Trop de demandes pour cette adresse" in answers[-1].text
    assert len(devinbox.wait_for(email, count=3)) == 3
