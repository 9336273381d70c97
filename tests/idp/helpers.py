"""Reusable pieces for tests that need a live IdP (also used by portal and e2e tests).

    idp = start_idp(database_url)            # migrated, served on a free port; idp.url is the issuer
    user = make_user(idp.app, "a@example.org", "Passw0rd-ok")
    client_id, secret = make_client(idp.app, redirect_uris=[...])
    code = sign_in_with_requests(http, authorize_url, "a@example.org", "Passw0rd-ok")
"""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from html import unescape
from urllib.parse import parse_qs, urlencode, urljoin, urlsplit

import requests

from idp import create_app, upgrade_database
from tests.servers import LiveServer, free_port

CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')


def start_idp(database_url: str, redis_url: str | None = None, host: str = "127.0.0.1", **overrides) -> LiveServer:
    """``host="localhost"`` for passkey tests: WebAuthn refuses an IP address as RP id."""
    port = free_port()
    upgrade_database(database_url)
    config = {"database_url": database_url, "redis_url": redis_url, "issuer": f"http://{host}:{port}",
              "_quiet": True, **overrides}
    app = create_app(config)
    server = LiveServer(app, port).start()
    server.url = f"http://{host}:{port}"
    return server


@contextmanager
def idp_with_user(folder, email: str, password: str, **overrides) -> Iterator[LiveServer]:
    """A live IdP on SQLite in ``folder`` whose outbox the test drives, with one person in it."""
    server = start_idp(f"sqlite:///{folder / 'idp.db'}", raw={"outbox": {"manual": True}}, **overrides)
    make_user(server.app, email, password)
    try:
        yield server
    finally:
        server.stop()


def make_user(app, email: str, password: str, **kwargs):
    from idp.services import accounts

    with app.app_context():
        return accounts.create(email, password, **kwargs)


def make_client(app, redirect_uris: list[str], **kwargs) -> tuple[str, str]:
    from idp.services import clients

    kwargs.setdefault("name", "Test RP")
    with app.app_context():
        client, secret = clients.create(redirect_uris=redirect_uris, **kwargs)
    return client.client_id, secret


def pkce() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


def csrf_token(html: str) -> str:
    match = CSRF_RE.search(html)
    assert match, "no CSRF token in the page"
    return unescape(match.group(1))


def follow_until_redirect_to(http: requests.Session, response: requests.Response, prefix: str) -> requests.Response:
    """Follow IdP-internal redirects; stop at the first redirect that leaves for ``prefix``."""
    while response.status_code in (301, 302, 303):
        location = urljoin(response.url, response.headers["Location"])
        if location.startswith(prefix):
            response.headers["Location"] = location
            return response
        response = http.get(location, allow_redirects=False)
        if response.status_code == 200 and "/consent" in response.url:
            response = http.post(response.url, data={"csrf_token": csrf_token(response.text), "decision": "allow"},
                                 allow_redirects=False)
    return response


def submit_sign_in(http: requests.Session, page: requests.Response, identifier: str, password: str) -> requests.Response:
    """From the identifier page: type the identifier, Continuer, the password, Continuer."""
    response = http.post(page.url, data={"csrf_token": csrf_token(page.text), "identifier": identifier},
                         allow_redirects=True)
    return http.post(response.url, data={"csrf_token": csrf_token(response.text), "password": password},
                     allow_redirects=False)


def sign_in_with_requests(http: requests.Session, authorize_url: str, identifier: str, password: str,
                          redirect_prefix: str) -> dict[str, list[str]]:
    """Drive the HTML sign-in from an authorization URL; return the callback's query parameters."""
    response = follow_until_redirect_to(http, http.get(authorize_url, allow_redirects=False), redirect_prefix)
    if response.status_code == 200:  # a sign-in page: no session yet
        response = follow_until_redirect_to(http, submit_sign_in(http, response, identifier, password),
                                            redirect_prefix)
    return parse_qs(urlsplit(response.headers["Location"]).query)


def exchange_code_for_tests(issuer: str, client_id: str, secret: str, code: str, verifier: str,
                            redirect_uri: str) -> dict:
    answer = requests.post(f"{issuer}/token", data={"grant_type": "authorization_code", "code": code,
                                                    "redirect_uri": redirect_uri, "code_verifier": verifier},
                           auth=(client_id, secret), timeout=10)
    assert answer.status_code == 200, answer.text
    return answer.json()


def code_after_sign_in(idp, client_id: str, redirect_uri: str, email: str, password: str, scope: str) -> tuple[str, str]:
    """(code, PKCE verifier): a fresh browser signs in through the HTML pages from /authorize."""
    verifier, challenge = pkce()
    callback = sign_in_with_requests(requests.Session(), f"{idp.url}/authorize?" + urlencode({
        "response_type": "code", "client_id": client_id, "redirect_uri": redirect_uri, "state": "s",
        "scope": scope, "code_challenge": challenge, "code_challenge_method": "S256"}), email, password, redirect_uri)
    return callback["code"][0], verifier


def api_client(app, scope: str) -> tuple[str, str]:
    """The client config/authorization.toml names for the API this scope opens, registered in this
    IdP for client credentials (its secret renewed when it is there already)."""
    from sqlalchemy import update

    from idp.services import clients
    from idp.storage.sql.models import Client
    from shared.appkit import get_db
    from shared.authorization import model

    client_id = sorted(model().api_for_scope(scope).clients)[0]
    with app.app_context():
        clients._cache.pop(client_id, None)  # the cache is per process, and tests run several IdPs in one
        with get_db().session() as session:
            exists = session.get(Client, client_id) is not None
        if not exists:
            _client, secret = clients.create(client_id, [], client_id=client_id, grant_types=["client_credentials"],
                                             scope=scope, first_party=True)
        else:
            secret = secrets.token_urlsafe(24)
            with get_db().session() as session:
                session.execute(update(Client).where(Client.client_id == client_id).values(
                    client_secret_hash=clients.hash_secret(secret), scope=scope, grant_types=["client_credentials"]))
            clients._cache.pop(client_id, None)
    return client_id, secret


def api_token(idp, scope: str) -> str:
    """A client-credentials access token of the API's own client, from the running IdP."""
    import requests

    client_id, secret = api_client(idp.app, scope)
    answer = requests.post(f"{idp.url}/token", data={"grant_type": "client_credentials", "scope": scope},
                           auth=(client_id, secret))
    assert answer.status_code == 200, answer.text
    return answer.json()["access_token"]


def past_the_reuse_grace(app, refresh_token: str) -> None:
    """Date this (rotated) refresh token's rotation a minute back: past the reuse grace, a replay of
    it is a stolen copy's (idp.oidc.grants.within_reuse_grace)."""
    from datetime import timedelta

    from sqlalchemy import update

    from idp.oidc import grants
    from idp.storage.sql.models import RefreshToken
    from shared.appkit import get_db
    from shared.timeutil import utcnow

    with app.app_context(), get_db().session() as session:
        session.execute(update(RefreshToken).where(RefreshToken.token_hash == grants.digest(refresh_token))
                        .values(used_at=utcnow() - timedelta(minutes=1)))


MAILBOX_CODE_RE = re.compile(r"\b(\d{4} \d{4})\b")


CODE_SUBJECTS = ("Votre code de confirmation", "Your confirmation code")


def mailbox_code(app, email: str, timeout: float = 15.0) -> str:
    """The newest confirmation code the IdP emailed to ``email``, read in the dev inbox it delivers
    to (the person's mailbox: the outbox redacts a message once delivered). It waits until every
    code the outbox queued for the address has arrived, so a code just asked for is the one read."""
    import time

    from idp.storage.sql.outbox import OutboxMessage

    with app.extensions["db"].session() as session:
        rows = session.query(OutboxMessage).filter(OutboxMessage.recipient == email,
                                                   OutboxMessage.subject.in_(CODE_SUBJECTS)).all()
        newest = max(rows, key=lambda row: row.created_at).body_text if rows else ""
    assert rows, f"no confirmation code was emailed to {email}"
    if MAILBOX_CODE_RE.search(newest):  # not delivered yet (or an IdP without a dev inbox): still readable
        return MAILBOX_CODE_RE.search(newest).group(1)
    queued = len(rows)
    inbox = app.config["SETTINGS"].devinbox_url
    deadline = time.monotonic() + timeout
    while True:
        found = [m for m in requests.get(f"{inbox}/api/messages", params={"to": email}, timeout=5).json()
                 if m.get("subject") in CODE_SUBJECTS]
        if len(found) >= queued:
            return MAILBOX_CODE_RE.search(found[0]["text"]).group(1)  # newest first
        assert time.monotonic() < deadline, f"the confirmation code did not reach {email}"
        time.sleep(0.05)


def prove_mailbox(idp, http: requests.Session, page: requests.Response, email: str) -> requests.Response:
    """Answer the "confirm it is you" page (``page``) with the code emailed to ``email``; returns
    the page the person was going to."""
    assert "/confirm-address/" in page.url, page.url
    return http.post(page.url, data={"csrf_token": csrf_token(page.text), "code": mailbox_code(idp.app, email)})


def prove_mailbox_in_service(app, sid: str, account_id: str, email: str, purpose: str = "totp") -> None:
    """The same proof through the service, for tests that bind a factor without a browser."""
    from idp.services import mailbox_proof

    with app.test_request_context():
        mailbox_proof.send(sid, account_id, purpose)
        assert mailbox_proof.confirm(sid, account_id, mailbox_code(app, email))


MAILBOX_ADDRESS_RE = re.compile(r"(?:envoyé à|sent to) (\S+@[^\s]+?)\.(?:\s|$)")


def prove_mailbox_in_browser(page, app) -> None:
    """On the "confirm it is you" page, as its reader would: the address the page names, the code
    that arrived there, typed in."""
    page.get_by_label(re.compile("Code reçu par courriel|Code received by email")).wait_for()
    email = MAILBOX_ADDRESS_RE.search(page.locator("main").inner_text()).group(1)
    page.get_by_label(re.compile("Code reçu par courriel|Code received by email")).fill(mailbox_code(app, email))
    page.get_by_role("button", name=re.compile("^(Confirmer|Confirm)$")).click()
