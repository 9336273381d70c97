"""Telling relying parties that an account's address changed: a Security Event Token (RFC 8417)
with the OpenID RISC ``identifier-changed`` event, pushed (RFC 8935) to each first-party client
that registered ``policy.account_events_uri`` (eComms: its applications stay with the old
address, seed 000). The subject is the client's own pairwise ``sub``; the token is signed with
the IdP's keys and meant for that client only. Delivery is tried at once, then retried from a
Redis queue with backoff, so a portal that was down still hears of it.
"""

from __future__ import annotations

import json
import logging
import secrets
import time

import requests
from sqlalchemy import select

from idp.oidc import claims as claims_module
from idp.oidc import tokens
from idp.oidc.logout import allowed_target
from idp.services import clients
from idp.storage.sql.models import Client
from shared.appkit import get_db, get_redis, get_settings

log = logging.getLogger(__name__)
IDENTIFIER_CHANGED = "https://schemas.openid.net/secevent/risc/event-type/identifier-changed"
QUEUE = "idp:account-events:queue"
MAX_ATTEMPTS = 12


def listening_clients() -> list:
    with get_db().session() as db:
        ids = list(db.scalars(select(Client.client_id)))
    found = [clients.get(client_id) for client_id in ids]
    return [c for c in found if c and c.first_party and (c.policy or {}).get("account_events_uri")]


def security_event_token(client, sub: str) -> str:
    issuer = get_settings().issuer
    body = {"iss": issuer, "aud": client.client_id, "iat": int(time.time()), "jti": secrets.token_urlsafe(16),
            "events": {IDENTIFIER_CHANGED: {"subject": {"subject_type": "iss_sub", "iss": issuer, "sub": sub}}}}
    return tokens.sign(body, client.id_token_signed_response_alg or "RS256", typ="secevent+jwt")


def identifier_changed(account_id: str, _new_email: str = "") -> None:
    """Hook of the address change: every listening client is told (the new address is not sent)."""
    for client in listening_clients():
        item = {"client_id": client.client_id, "sub": claims_module.pairwise_sub(account_id, client), "attempts": 0}
        if not deliver(item, timeout=3):
            queue(item, delay=1)


def deliver(item: dict, timeout: float = 5) -> bool:
    client = clients.get(item["client_id"])
    uri = (client.policy or {}).get("account_events_uri") if client else None
    if not uri or not allowed_target(uri):
        return True  # nothing (allowed) to deliver to any more
    try:
        response = requests.post(uri, data=security_event_token(client, item["sub"]), timeout=timeout,
                                 headers={"Content-Type": "application/secevent+jwt", "Accept": "application/json"},
                                 allow_redirects=False)
    except requests.RequestException:
        return False
    return response.status_code in (200, 202)


def queue(item: dict, delay: float) -> None:
    get_redis().zadd(QUEUE, {json.dumps({**item, "nonce": time.time()}): time.time() + delay})


def drain_once() -> int:
    redis = get_redis()
    delivered = 0
    for raw in redis.zrangebyscore(QUEUE, 0, time.time(), start=0, num=50):
        if not redis.zrem(QUEUE, raw):
            continue
        item = json.loads(raw)
        if deliver(item):
            delivered += 1
        elif item["attempts"] + 1 < MAX_ATTEMPTS:
            queue({**item, "attempts": item["attempts"] + 1}, delay=min(600, 2 ** item["attempts"]))
        else:
            log.error("account event to %s abandoned after %s attempts", item["client_id"], MAX_ATTEMPTS)
    return delivered
