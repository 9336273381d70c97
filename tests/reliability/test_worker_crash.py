"""The outbox worker killed with -9 in the middle of a job: the job is retried once its lease
expires, and its effect happens once.

Real processes: the outbox worker is the delivery thread of a real eComms process (a subprocess,
on a real PostgreSQL), killed with SIGKILL, then replaced by a fresh one. The dev inbox (its own
SMTP handler and gateway, deduplicating on Message-ID / Idempotency-Key) runs in this process
behind a gate that holds the first delivery at a chosen point, so the kill lands deterministically:
either after the dev inbox kept the message but before the worker heard back (the worst moment:
the worker cannot have recorded it as sent), or after the claim but before anything was accepted.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from datetime import datetime, timedelta
from pathlib import Path

import pytest
import requests
from flask import Flask, request

from tests.servers import LiveServer, create_database, free_port

REPO = Path(__file__).resolve().parents[2]
# [outbox] lease_seconds: how long a dead worker's claim blocks the row. Longer than a fresh worker's
# start (~1 s) plus its 2 s wake interval, so that worker B polls while the lease still holds.
LEASE_SECONDS = 5.0
DEADLINE = 30.0  # every wait below ends there; the default lease (2 min) would not fit in it
WORKER = """
import sys, threading
from portals.ecomms import create_app
create_app({"database_url": sys.argv[1], "instance_path": sys.argv[2], "smtp_url": sys.argv[3],
            "sms_gateway_url": sys.argv[4], "_quiet": True,
            "raw": {"outbox": {"lease_seconds": float(sys.argv[5])}}})
threading.Event().wait()  # the outbox worker is this process's daemon thread
"""
RECIPIENT = {"email": "erin@example.org", "sms": "+33611223344"}


class Gate:
    """In front of the dev inbox: records every delivery that arrives, and holds the first one
    ``before`` the dev inbox sees it (then refuses it) or ``after`` the dev inbox kept it (then
    answers), until the test has killed the worker waiting on it."""

    def __init__(self, hold: str):
        self.hold: str | None = hold
        self.arrivals: list[datetime] = []
        self.holding = threading.Event()
        self.release = threading.Event()
        self._lock = threading.Lock()

    def arrive(self) -> str | None:
        from shared.timeutil import utcnow

        with self._lock:
            self.arrivals.append(utcnow())
            hold, self.hold = self.hold, None  # only the first delivery is held
        return hold

    def wait_released(self) -> None:
        self.holding.set()
        self.release.wait(DEADLINE)

    async def wait_released_async(self) -> None:
        self.holding.set()
        deadline = time.monotonic() + DEADLINE
        while not self.release.is_set() and time.monotonic() < deadline:
            await asyncio.sleep(0.02)


def gated_smtp_handler(db, gate: Gate):
    from shared.outbox.devinbox import SmtpHandler

    class GatedSmtpHandler(SmtpHandler):  # the dev inbox's own handler: it stores and deduplicates
        async def handle_DATA(self, server, session, envelope):  # noqa: N802
            hold = gate.arrive()
            if hold == "before":
                await gate.wait_released_async()
                return "451 4.3.0 Not accepted, try again later"
            reply = await super().handle_DATA(server, session, envelope)
            if hold == "after":
                await gate.wait_released_async()
            return reply

    return GatedSmtpHandler(db)


def gated_sms_gateway(gate: Gate, upstream: str) -> Flask:
    app = Flask("sms-gate")

    @app.post("/gateway/sms")
    def sms():
        hold = gate.arrive()
        if hold == "before":
            gate.wait_released()
            return "not accepted", 503
        headers = {"Content-Type": request.content_type or "application/json"}
        if "Idempotency-Key" in request.headers:
            headers["Idempotency-Key"] = request.headers["Idempotency-Key"]
        answer = requests.post(upstream, data=request.get_data(), headers=headers, timeout=10)
        if hold == "after":
            gate.wait_released()
        return answer.content, answer.status_code, {"Content-Type": answer.headers.get("Content-Type", "")}

    return app


class Inbox:
    """A dev inbox (API + SMTP sink + SMS gateway) whose deliveries pass through ``gate``."""

    def __init__(self, tmp_path: Path, gate: Gate):
        from aiosmtpd.controller import Controller

        from shared.outbox.devinbox import create_app

        app = create_app({"database_url": f"sqlite:///{tmp_path / 'devinbox.db'}", "_quiet": True}, smtp_port=0)
        self.api = LiveServer(app, free_port()).start()
        self.smtp_port = free_port()
        self.smtp = Controller(gated_smtp_handler(app.extensions["devinbox_db"], gate), hostname="127.0.0.1",
                               port=self.smtp_port)
        self.smtp.start()
        self.sms_gate = LiveServer(gated_sms_gateway(gate, f"{self.api.url}/gateway/sms"), free_port()).start()

    def messages(self, to: str) -> list[dict]:
        return requests.get(f"{self.api.url}/api/messages", params={"to": to}, timeout=5).json()

    def stop(self) -> None:
        self.sms_gate.stop()
        self.smtp.stop()
        self.api.stop()


@pytest.fixture
def ecomms_database(postgres_server_url):
    from portals.ecomms import upgrade_database
    from shared.storage import Database

    url = create_database(postgres_server_url, f"ecomms_{uuid.uuid4().hex[:8]}")
    upgrade_database(url)
    db = Database(url)
    yield url, db
    db.dispose()


def start_worker(tmp_path: Path, name: str, database_url: str, inbox: Inbox) -> subprocess.Popen:
    instance = tmp_path / "instance"
    instance.mkdir(exist_ok=True)
    log = (tmp_path / f"{name}.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-c", WORKER, database_url, str(instance), f"smtp://127.0.0.1:{inbox.smtp_port}",
         f"{inbox.sms_gate.url}/gateway/sms", str(LEASE_SECONDS)],
        cwd=REPO, stdout=log, stderr=subprocess.STDOUT)
    log.close()
    process.log_path = tmp_path / f"{name}.log"  # type: ignore[attr-defined]
    return process


def wait_until(condition, what: str, workers: list[subprocess.Popen]):
    deadline = time.monotonic() + DEADLINE
    while not (result := condition()):
        for worker in workers:
            if worker.poll() is not None:
                pytest.fail(f"a worker exited ({worker.returncode}) before {what}:\n"
                            f"{worker.log_path.read_text()[-3000:]}")  # type: ignore[attr-defined]
        assert time.monotonic() < deadline, f"no {what} after {DEADLINE}s"
        time.sleep(0.05)
    return result


def queue(db, channel: str) -> str:
    from portals.ecomms.models import OutboxMessage
    from shared.outbox import queue_email, queue_sms

    with db.session() as session:
        if channel == "email":
            row = queue_email(session, OutboxMessage, RECIPIENT["email"], "Nouveau document",
                              "Un document vous attend : http://localhost:8001/applications/5-26\n")
        else:
            row = queue_sms(session, OutboxMessage, RECIPIENT["sms"], "Votre code : 424242")
        session.flush()
        return row.id


def outbox_row(db, row_id: str):
    from portals.ecomms.models import OutboxMessage

    with db.session() as session:
        return session.get(OutboxMessage, row_id)


def crash_and_retry(tmp_path: Path, ecomms_database, channel: str, hold: str):
    """Run worker A until the gate holds its delivery, kill it with -9, start worker B at once;
    returns the row's state at the kill, the gate, and what the recipient sees after B."""
    from shared.timeutil import as_utc

    database_url, db = ecomms_database
    gate = Gate(hold)
    inbox = Inbox(tmp_path, gate)
    workers: list[subprocess.Popen] = []
    try:
        row_id = queue(db, channel)
        first = start_worker(tmp_path, "worker-a", database_url, inbox)
        workers.append(first)
        wait_until(gate.holding.is_set, "delivery reaching the dev inbox", workers)
        seen_at_kill = inbox.messages(RECIPIENT[channel])
        at_kill = outbox_row(db, row_id)
        os.kill(first.pid, signal.SIGKILL)  # worker A is blocked waiting for the dev inbox's answer
        assert first.wait(10) == -signal.SIGKILL
        workers.remove(first)
        gate.release.set()
        assert (at_kill.status, at_kill.sent_at, at_kill.attempts) == ("sending", None, 1), "claimed, not recorded"
        lease_end = as_utc(at_kill.next_attempt_at)
        assert lease_end <= gate.arrivals[0] + timedelta(seconds=LEASE_SECONDS), "the configured lease is used"

        workers.append(start_worker(tmp_path, "worker-b", database_url, inbox))  # before the lease expires
        final = wait_until(lambda: (row := outbox_row(db, row_id)).status == "sent" and row,
                           "row marked sent by the fresh worker", workers)
        assert len(gate.arrivals) == 2, f"delivered by A then by B only, got {gate.arrivals}"
        assert gate.arrivals[1] >= lease_end, "the fresh worker waited for the dead worker's lease"
        return seen_at_kill, final, inbox.messages(RECIPIENT[channel])
    finally:
        gate.release.set()
        for worker in workers:
            worker.kill()
            worker.wait(10)
        inbox.stop()


@pytest.mark.parametrize("channel", ["email", "sms"])
def test_worker_killed_after_the_inbox_kept_the_message_it_is_retried_and_received_once(
        tmp_path, ecomms_database, channel):
    seen_at_kill, final, seen = crash_and_retry(tmp_path, ecomms_database, channel, hold="after")
    assert len(seen_at_kill) == 1, "the message had reached the recipient when the worker died"
    assert final.status == "sent" and final.sent_at is not None
    assert len(seen) == 1, f"the repeated delivery is recognised, the recipient sees it once: {seen}"
    assert seen[0]["id"] == seen_at_kill[0]["id"]


@pytest.mark.parametrize("channel", ["email", "sms"])
def test_worker_killed_after_claiming_before_delivery_the_next_worker_delivers_once(
        tmp_path, ecomms_database, channel):
    seen_at_kill, final, seen = crash_and_retry(tmp_path, ecomms_database, channel, hold="before")
    assert seen_at_kill == [], "nothing had been accepted when the worker died"
    assert final.status == "sent" and final.sent_at is not None
    assert len(seen) == 1, f"delivered exactly once by the next worker: {seen}"
    expected = "Nouveau document" if channel == "email" else ""
    assert seen[0]["subject"] == expected and seen[0]["to"] == RECIPIENT[channel]
