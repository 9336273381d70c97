"""Handing a portal's support requests to the IdP's support desk (its ``support`` API).

Each portal keeps its own record of a request (its domain data) and marks when the IdP has it
(``handed_over_at``). A job sends the requests not marked yet, oldest first, with the portal's
client-credentials token; the IdP treats the same reference from the same portal as the same
request, so a request sent twice (an answer lost on the way back) is stored once. A request made
while the IdP is down waits in the portal and goes at the next round: none is lost.

A portal whose record has a status (e-services) also reads back, each round, where its open
requests stand at the desk and closes those the operators closed: the desk is where they are
answered, so the portal's list (``support list``) does not keep showing what is done. The IdP
never calls a portal (it knows no portal URL for this, and a portal down would lose the change);
the portal asks, with the same token, and a round that cannot ask changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask, current_app
from sqlalchemy import select

from shared.appkit import get_db, get_settings
from shared.jobs import start_periodic
from shared.timeutil import utcnow

INTERVAL_SECONDS = 15
BATCH = 50


def hand_over(payload: dict) -> bool:
    """One request to the desk; True once the IdP holds it."""
    rp = current_app.extensions["rp"]
    try:
        token = rp.client_credentials_token("support")
        answer = rp.provider.http.post(f"{get_settings().issuer}/api/support/requests", json=payload,
                                       headers={"Authorization": f"Bearer {token}"}, timeout=10)
    except Exception as error:  # the IdP unreachable, or no token now: the next round retries
        current_app.logger.warning("support hand-over: %s", error.__class__.__name__)
        return False
    if answer.status_code not in (200, 201):
        current_app.logger.warning("support hand-over refused: http %s", answer.status_code)
        return False
    return True


def hand_over_pending(model, payload_of: Callable[[object], dict]) -> int:
    """Send the requests the IdP does not hold yet; how many went."""
    sent = 0
    with get_db().session() as session:
        pending = list(session.scalars(select(model).where(model.handed_over_at.is_(None))
                                       .order_by(model.created_at).limit(BATCH)))
        for record in pending:
            if not hand_over(payload_of(record)):
                break
            record.handed_over_at = utcnow()
            session.flush()
            sent += 1
    return sent


def closed_at_the_desk(references: list[str]) -> set[str] | None:
    """Those of ``references`` the desk closed; None when the IdP cannot be asked now."""
    rp = current_app.extensions["rp"]
    try:
        token = rp.client_credentials_token("support")
        answer = rp.provider.http.get(f"{get_settings().issuer}/api/support/requests", params={"reference": references},
                                      headers={"Authorization": f"Bearer {token}"}, timeout=10)
    except Exception as error:  # the IdP unreachable, or no token now: the next round asks again
        current_app.logger.warning("support status: %s", error.__class__.__name__)
        return None
    if answer.status_code != 200:
        current_app.logger.warning("support status refused: http %s", answer.status_code)
        return None
    return {item["reference"] for item in answer.json().get("requests", []) if item.get("status") == "closed"}


def follow_closures(model) -> int:
    """Close the records whose request the desk closed; how many."""
    closed = 0
    with get_db().session() as session:
        open_records = list(session.scalars(select(model).where(model.handed_over_at.is_not(None),
                                                                model.status != "closed")
                                            .order_by(model.created_at)))
        for start in range(0, len(open_records), BATCH):
            chunk = open_records[start:start + BATCH]
            done = closed_at_the_desk([record.reference for record in chunk])
            if done is None:
                break
            for record in chunk:
                if record.reference in done:
                    record.status = "closed"
                    closed += 1
    return closed


def start_handover(app: Flask, model, payload_of: Callable[[object], dict], follow_status: bool = False) -> None:
    def round_() -> None:
        hand_over_pending(model, payload_of)
        if follow_status:
            follow_closures(model)

    start_periodic(app, "support-handover", INTERVAL_SECONDS, round_)



