"""Logs: one JSON line per request and per security event, with the proxy's request id, and no
secret in any line — passwords, codes, tokens, client secrets and reset links all pass through a
sign-in, a token exchange, a refresh and a recovery below, and none of them reaches a log record."""

from __future__ import annotations

import json
import logging
import re
import time

import pytest
import requests
from sqlalchemy import select

from idp.storage.sql.outbox import OutboxMessage
from shared.appkit import get_db
from shared.request_log import JsonLines
from tests.idp.helpers import (
    code_after_sign_in,
    csrf_token,
    exchange_code_for_tests,
    make_client,
    make_user,
    start_idp,
)

PASSWORD = "Bonne-Passe-2026-logs"
REDIRECT = "http://rp.example/callback"


@pytest.fixture
def idp(tmp_path):
    server = start_idp(f"sqlite:///{tmp_path / 'idp.db'}")
    yield server
    server.stop()


def lines(caplog, logger: str) -> list[dict]:
    return [json.loads(JsonLines().format(r)) for r in caplog.records if r.name == logger]


def test_each_request_is_one_json_line_with_the_proxys_request_id(idp, caplog):
    caplog.set_level(logging.INFO, logger="civic")
    answer = requests.get(f"{idp.url}/.well-known/openid-configuration", headers={"X-Request-ID": "nginx-4f2a.9"})
    assert answer.headers["X-Request-ID"] == "nginx-4f2a.9"
    [line] = [x for x in lines(caplog, "civic.access") if x["request_id"] == "nginx-4f2a.9"]
    assert line["route"] == "/.well-known/openid-configuration" and line["status"] == 200 and line["app"] == "idp"
    forged = requests.get(f"{idp.url}/healthz", headers={"X-Request-ID": 'x"} {"level": "forged'})
    assert forged.headers["X-Request-ID"] != 'x"} {"level": "forged' and len(forged.headers["X-Request-ID"]) == 32


def test_a_security_event_is_a_json_line_carrying_its_request_id(idp, caplog):
    caplog.set_level(logging.INFO, logger="civic")
    make_user(idp.app, "logs-event@example.org", PASSWORD)
    http = requests.Session()
    page = http.get(f"{idp.url}/signin?next=/account")
    page = http.post(page.url, data={"csrf_token": csrf_token(page.text), "identifier": "logs-event@example.org"})
    refused = http.post(page.url, data={"csrf_token": csrf_token(page.text), "password": "Wrong-Passe-1"},
                        headers={"X-Request-ID": "req-sign-in-1"})
    assert refused.status_code == 400
    [event] = [x for x in lines(caplog, "civic.security") if x["event"] == "sign_in_failed"]
    assert event["request_id"] == "req-sign-in-1" and event["account_id"]


def test_no_secret_reaches_any_log_record(idp, caplog):
    caplog.set_level(logging.DEBUG)  # every logger, every level
    email = "logs-secrets@example.org"
    make_user(idp.app, email, PASSWORD)
    client_id, secret = make_client(idp.app, [REDIRECT], scope="openid email offline_access",
                                    grant_types=["authorization_code", "refresh_token"], first_party=True)
    code, verifier = code_after_sign_in(idp, client_id, REDIRECT, email, PASSWORD, "openid email offline_access")
    tokens = exchange_code_for_tests(idp.url, client_id, secret, code, verifier, REDIRECT)
    refreshed = requests.post(f"{idp.url}/token", auth=(client_id, secret),
                              data={"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]}).json()
    assert requests.get(f"{idp.url}/userinfo", headers={"Authorization": f"Bearer {refreshed['access_token']}"}).ok
    requests.post(f"{idp.url}/token", data={"grant_type": "authorization_code", "code": code}, auth=(client_id, "bad"))
    recovery = requests.Session()
    form = recovery.get(f"{idp.url}/recovery")
    recovery.post(f"{idp.url}/recovery", data={"csrf_token": csrf_token(form.text), "email": email}).close()
    link = None
    deadline = time.monotonic() + 20
    while link is None and time.monotonic() < deadline:  # the recovery email is queued after the answer
        with idp.app.app_context(), get_db().session() as session:
            body = session.scalar(select(OutboxMessage.body_text).where(OutboxMessage.recipient == email))
        found = re.search(r"/recovery/([\w-]+)", body or "")
        link = found.group(1) if found else time.sleep(0.1)
    assert link, "the recovery email was queued"
    requests.get(f"{idp.url}/recovery/{link}")
    secrets = [PASSWORD, link, secret, code, verifier, tokens["access_token"], tokens["refresh_token"], tokens["id_token"],
               refreshed["access_token"], refreshed["refresh_token"]]
    # not the servers' own: werkzeug's development server logs request lines with their paths
    # (production runs gunicorn, whose access log is off; our access line names the route's rule),
    # and urllib3's are this test's HTTP client
    text = "\n".join(JsonLines().format(r) + " " + repr(r.args) for r in caplog.records
                     if r.name != "werkzeug" and not r.name.startswith("urllib3"))
    assert caplog.records, "the flow was logged at all"
    for value in secrets:
        assert value not in text


def test_an_emails_delivery_is_logged_with_the_request_id_that_queued_it(tmp_path, devinbox, caplog):
    """The recovery email is queued by a job after the answer has left and sent by the outbox worker
    later still: its delivery line carries the proxy's id of the request that asked for it."""
    email = "logs-delivery@example.org"
    server = start_idp(f"sqlite:///{tmp_path / 'idp.db'}", **devinbox.settings())
    caplog.set_level(logging.INFO, logger="civic")  # after the app set the civic loggers' level
    try:
        make_user(server.app, email, PASSWORD)
        http = requests.Session()
        form = http.get(f"{server.url}/recovery")
        asked = http.post(f"{server.url}/recovery", data={"csrf_token": csrf_token(form.text), "email": email},
                          headers={"X-Request-ID": "abc"})
        assert asked.ok and asked.headers["X-Request-ID"] == "abc"
        devinbox.wait_for(email)
        deadline = time.monotonic() + 10  # the worker logs right after the send the inbox already shows
        while not (delivered := [x for x in lines(caplog, "civic.outbox") if x["message"] == "delivered"]):
            assert time.monotonic() < deadline, "no delivery line"
            time.sleep(0.05)
        [line] = delivered
        assert line["request_id"] == "abc" and line["channel"] == "email" and line["app"] == "idp"
        assert email not in json.dumps(line), "names the message, not its recipient"
        with server.app.app_context(), get_db().session() as session:
            assert session.scalar(select(OutboxMessage.request_id).where(OutboxMessage.recipient == email)) == "abc"
    finally:
        server.stop()
