"""Single-use credentials presented by several requests at once (a stolen copy raced against the
client), on PostgreSQL and Redis, whatever the interleaving:

- one refresh token, strict rotation (no reuse grace): at most one presentation gets tokens, and
  as soon as more than one was made the whole family is revoked, so the winner's new refresh
  token is refused too (RFC 9700 §4.14.2);
- one refresh token, with the default reuse grace: every honest concurrent refresh (a client
  without a lock across its processes, as mod_auth_openidc) gets a working successor in the same
  family, and a replay after the grace still revokes the family (issue 19 §1);
- one authorization code: at most one exchange gets tokens (RFC 6749 §4.1.2), and the tokens of
  the grant are revoked when a second presentation is seen (RFC 9700 §4.2.4)."""

from __future__ import annotations

import threading
import uuid
from datetime import timedelta

import requests

from idp.oidc import grants
from shared.timeutil import utcnow
from tests.idp.helpers import (
    code_after_sign_in,
    exchange_code_for_tests,
    make_client,
    make_user,
    start_idp,
)
from tests.servers import create_database

REDIRECT = "http://rp.example/callback"
RACERS = 8


def race(url: str, auth: tuple[str, str], data: dict[str, str]) -> list[requests.Response]:
    """RACERS identical token requests released at the same instant."""
    start = threading.Barrier(RACERS)
    answers: list[requests.Response] = []

    def present() -> None:
        start.wait()
        answers.append(requests.post(url, auth=auth, data=data, timeout=30))

    racers = [threading.Thread(target=present) for _ in range(RACERS)]
    for racer in racers:
        racer.start()
    for racer in racers:
        racer.join(60)
    assert len(answers) == RACERS
    return answers


def signed_in_code(idp, email: str) -> tuple[str, str, str, str]:
    """(client_id, secret, code, verifier) after a real sign-in."""
    make_user(idp.app, email, "Bonne-Passe-2026")
    client_id, secret = make_client(idp.app, [REDIRECT], first_party=True, scope="openid offline_access")
    code, verifier = code_after_sign_in(idp, client_id, REDIRECT, email, "Bonne-Passe-2026", "openid offline_access")
    return client_id, secret, code, verifier


def test_a_refresh_token_raced_by_several_requests_is_spent_at_most_once(postgres_server_url, real_redis_url):
    idp = start_idp(create_database(postgres_server_url, f"idp_{uuid.uuid4().hex[:8]}"), real_redis_url,
                    raw={"lifetimes": {"refresh_reuse_grace": 0}})
    try:
        client_id, secret, code, verifier = signed_in_code(idp, "race@example.org")
        refresh_token = exchange_code_for_tests(idp.url, client_id, secret, code, verifier, REDIRECT)["refresh_token"]
        answers = race(f"{idp.url}/token", (client_id, secret),
                       {"grant_type": "refresh_token", "refresh_token": refresh_token})
        assert all(answer.status_code in (200, 400) for answer in answers), [a.status_code for a in answers]
        winners = [answer.json() for answer in answers if answer.status_code == 200]
        assert len(winners) <= 1, "one refresh token was spent twice"
        assert all(answer.json()["error"] == "invalid_grant" for answer in answers if answer.status_code == 400)
        for winner in winners:  # the race revoked the family: the winner's successor is dead too
            successor = requests.post(f"{idp.url}/token", auth=(client_id, secret), timeout=10, data={
                "grant_type": "refresh_token", "refresh_token": winner["refresh_token"]})
            assert successor.status_code == 400
    finally:
        idp.stop()


def test_concurrent_refreshes_within_the_grace_all_get_a_successor_and_a_late_replay_revokes(
        postgres_server_url, real_redis_url):
    from sqlalchemy import update

    from idp.storage.sql.models import RefreshToken
    from shared.appkit import get_db

    idp = start_idp(create_database(postgres_server_url, f"idp_{uuid.uuid4().hex[:8]}"), real_redis_url)
    try:
        client_id, secret, code, verifier = signed_in_code(idp, "grace@example.org")
        refresh_token = exchange_code_for_tests(idp.url, client_id, secret, code, verifier, REDIRECT)["refresh_token"]
        answers = race(f"{idp.url}/token", (client_id, secret),
                       {"grant_type": "refresh_token", "refresh_token": refresh_token})
        assert [answer.status_code for answer in answers] == [200] * RACERS
        successors = [answer.json()["refresh_token"] for answer in answers]
        assert len(set(successors)) == RACERS
        first = requests.post(f"{idp.url}/token", auth=(client_id, secret), timeout=10, data={
            "grant_type": "refresh_token", "refresh_token": successors[0]})
        assert first.status_code == 200, "no honest racer's successor was revoked"
        with idp.app.app_context(), get_db().session() as session:  # the grace is over for the first token
            session.execute(update(RefreshToken).where(RefreshToken.token_hash == grants.digest(refresh_token))
                            .values(used_at=utcnow() - timedelta(minutes=1)))
        replay = requests.post(f"{idp.url}/token", auth=(client_id, secret), timeout=10, data={
            "grant_type": "refresh_token", "refresh_token": refresh_token})
        assert replay.status_code == 400
        dead = requests.post(f"{idp.url}/token", auth=(client_id, secret), timeout=10, data={
            "grant_type": "refresh_token", "refresh_token": first.json()["refresh_token"]})
        assert dead.status_code == 400, "a replay after the grace revokes the whole family"
    finally:
        idp.stop()


def test_an_authorization_code_raced_by_several_exchanges_is_spent_at_most_once(postgres_server_url,
                                                                                real_redis_url):
    idp = start_idp(create_database(postgres_server_url, f"idp_{uuid.uuid4().hex[:8]}"), real_redis_url)
    try:
        client_id, secret, code, verifier = signed_in_code(idp, "code-race@example.org")
        answers = race(f"{idp.url}/token", (client_id, secret), {
            "grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT, "code_verifier": verifier})
        assert all(answer.status_code in (200, 400) for answer in answers), [a.status_code for a in answers]
        winners = [answer.json() for answer in answers if answer.status_code == 200]
        assert len(winners) <= 1, "one authorization code was exchanged twice"
        for winner in winners:  # the replays revoked what the code gave
            refreshed = requests.post(f"{idp.url}/token", auth=(client_id, secret), timeout=10, data={
                "grant_type": "refresh_token", "refresh_token": winner["refresh_token"]})
            assert refreshed.status_code == 400
            assert requests.get(f"{idp.url}/userinfo", timeout=10, headers={
                "Authorization": f"Bearer {winner['access_token']}"}).status_code == 401
    finally:
        idp.stop()
