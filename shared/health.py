"""``/healthz`` and ``/readyz`` on every app, for the load balancer and the orchestrator.

``/healthz`` says the process answers and touches nothing. ``/readyz`` says whether this instance
can serve: its database, its Redis and whatever the app registers (the IdP: its signing keys)
answer. Neither reads a person's data, sets a cookie or names an error's details (an outsider may
reach them): a failing check is named, its cause goes to the log.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from flask import Blueprint, Flask, current_app, jsonify
from sqlalchemy import text

log = logging.getLogger(__name__)

health = Blueprint("health", __name__)

Check = Callable[[], object]  # raises (or returns False) when its dependency is not there


def add_readiness_check(app: Flask, name: str, check: Check) -> None:
    app.extensions.setdefault("readiness_checks", {})[name] = check


def _database() -> None:
    with current_app.extensions["db"].engine.connect() as connection:
        connection.execute(text("SELECT 1"))


def _redis() -> None:
    current_app.extensions["redis"].ping()


def _answer(body: dict, status: int):
    response = jsonify(body)
    response.status_code = status
    response.headers["Cache-Control"] = "no-store"
    return response


@health.get("/healthz")
def alive():
    return _answer({"status": "alive"}, 200)


@health.get("/readyz")
def ready():
    checks = {"database": _database, "redis": _redis, **current_app.extensions.get("readiness_checks", {})}
    results: dict[str, str] = {}
    for name, check in checks.items():
        try:
            results[name] = "ok" if check() is not False else "unavailable"
        except Exception as error:  # any failure is "not ready"; the cause is for the operators' log
            log.warning("readiness: %s unavailable (%s)", name, error.__class__.__name__)
            results[name] = "unavailable"
    ok = all(result == "ok" for result in results.values())
    return _answer({"status": "ready" if ok else "unready", "checks": results}, 200 if ok else 503)


def init_health(app: Flask) -> None:
    app.register_blueprint(health)
