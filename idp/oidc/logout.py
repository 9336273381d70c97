"""Ending sessions, protocol side: refresh-token revocation and back-channel logout
(OIDC Back-Channel Logout 1.0). Every client the session touched is told before the logout
answers (in parallel, a few seconds at most), so no portal session outlives the IdP session; a
client that does not answer gets it later, retried with backoff.

Retries wait in a Redis sorted set scored by their next attempt time, so any instance's
worker thread can deliver them and a restart loses nothing. Only the ``backchannel_logout_uri``
registered for the client is ever called; in production private and loopback addresses are
refused unless listed in ``BACKCHANNEL_ALLOWED_HOSTS`` (SSRF guard).
"""

from __future__ import annotations

import ipaddress
import json
import logging
import os
import socket
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlsplit

import requests
from flask import Flask, current_app
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from sqlalchemy import select, update

from idp.oidc import claims as claims_module
from idp.oidc import tokens
from idp.services import clients
from idp.storage.sql.models import RefreshToken
from shared.appkit import get_db, get_redis, get_settings
from shared.jobs import run_in_background
from shared.timeutil import utcnow

log = logging.getLogger(__name__)
QUEUE = "idp:backchannel:queue"
MAX_ATTEMPTS = 12
IMMEDIATE_TIMEOUT = 3  # seconds a client gets to answer before its logout goes to the retry queue
# Hooks called with the ended session; each may return an upstream logout URL (federation).
LOGOUT_HOOKS: list[Callable] = []


def after_session_ended(session) -> None:
    tokens.revoke_session(session.sid)  # its access tokens, including those without a refresh token
    with get_db().session() as db:
        families = set(db.scalars(select(RefreshToken.family_id).where(RefreshToken.sid == session.sid)))
        db.execute(update(RefreshToken).where(RefreshToken.sid == session.sid, RefreshToken.revoked_at.is_(None))
                   .values(revoked_at=utcnow()))
    for family in families:
        tokens.revoke_grant(family)
    items = []
    for client_id in session.clients:
        client = clients.get(client_id)
        if client and client.backchannel_logout_uri:
            items.append({"client_id": client_id, "sub": claims_module.pairwise_sub(session.account_id, client),
                          "sid": session.sid, "attempts": 0})
    deliver_now(items)
    from idp.services import audit

    audit.record("logout", session.account_id, sid=session.sid, clients=session.clients)


def deliver_now(items: list[dict]) -> None:
    """Tell every client before the logout answers (in parallel, short timeout), so no portal session
    outlives the IdP session; a client that does not answer gets it later from the queue."""
    if not items:
        return
    app = current_app._get_current_object()

    def attempt(item: dict) -> bool:
        with app.app_context():
            try:
                return deliver(item, timeout=IMMEDIATE_TIMEOUT)
            except Exception:  # the queue will retry
                log.exception("back-channel logout to %s", item["client_id"])
                return False

    with ThreadPoolExecutor(max_workers=min(8, len(items))) as pool:
        outcomes = list(pool.map(attempt, items))
    for item, delivered in zip(items, outcomes, strict=True):
        if not delivered:
            queue_delivery(item["client_id"], item["sub"], item["sid"], attempts=1, delay=1)


def queue_delivery(client_id: str, sub: str, sid: str, attempts: int = 0, delay: float = 0) -> None:
    item = json.dumps({"client_id": client_id, "sub": sub, "sid": sid, "attempts": attempts, "nonce": time.time()})
    get_redis().zadd(QUEUE, {item: time.time() + delay})
    _wake.set()


def allowed_target(url: str) -> bool:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return False
    if not get_settings().production:
        return True
    allowed = {h.strip() for h in os.environ.get("BACKCHANNEL_ALLOWED_HOSTS", "").split(",") if h.strip()}
    if parts.hostname in allowed:
        return True
    if parts.scheme != "https":
        return False
    try:
        addresses = {info[4][0] for info in socket.getaddrinfo(parts.hostname, None)}
    except OSError:
        return False
    return all(ipaddress.ip_address(a.split("%")[0]).is_global for a in addresses)


def deliver(item: dict, timeout: float = 5) -> bool:
    client = clients.get(item["client_id"])
    if client is None or not client.backchannel_logout_uri:
        return True  # nothing to deliver any more
    if not allowed_target(client.backchannel_logout_uri):
        log.warning("back-channel logout to %s refused (SSRF guard)", client.backchannel_logout_uri)
        return True
    token = tokens.logout_token(client, item["sub"], item["sid"])
    try:
        response = requests.post(client.backchannel_logout_uri, data={"logout_token": token}, timeout=timeout,
                                 allow_redirects=False)
    except requests.RequestException:
        return False
    return response.status_code in (200, 204) or 400 <= response.status_code < 500


def drain_once() -> int:
    """Deliver every due item once; failed ones are rescheduled with exponential backoff."""
    redis = get_redis()
    delivered = 0
    for item_json in redis.zrangebyscore(QUEUE, 0, time.time(), start=0, num=50):
        if not redis.zrem(QUEUE, item_json):
            continue  # another worker took it
        item = json.loads(item_json)
        if deliver(item):
            delivered += 1
        elif item["attempts"] + 1 < MAX_ATTEMPTS:
            queue_delivery(item["client_id"], item["sub"], item["sid"], item["attempts"] + 1,
                           delay=min(600, 2 ** item["attempts"]))
        else:
            log.error("back-channel logout to %s abandoned after %s attempts", item["client_id"], MAX_ATTEMPTS)
    return delivered


_wake = threading.Event()


def start_worker(app: Flask) -> None:
    """One daemon thread per process; wakes when something is queued and at least every 2 s."""
    if app.config.get("BACKCHANNEL_WORKER_STARTED") or not app.config["SETTINGS"].background:
        return
    app.config["BACKCHANNEL_WORKER_STARTED"] = True

    def one_round(live: Flask) -> None:
        try:
            with live.app_context():
                drain_once()
        except (RedisConnectionError, RedisTimeoutError) as error:  # an outage: one line, not a trace per round
            log.warning("back-channel logout worker: Redis unavailable (%s)", error.__class__.__name__)
            time.sleep(1)
        except Exception:  # keep the worker alive; the item stays queued
            log.exception("back-channel logout worker")
            time.sleep(1)

    run_in_background(app, "backchannel-logout", 2, one_round, wake=_wake)
