"""One JSON line per request and per security event, with a request id.

The id comes from the proxy's ``X-Request-ID`` when it is a plain token (so a line can be followed
from nginx to the app), else it is made here; it is sent back in the answer. A line names the
route's rule (``/activate/<token>``), never the path or query string, which carry activation
links, authorization codes and states; no header, form field or cookie is logged.

The lines go to the ``civic`` loggers: ``civic.access`` (a request) and ``civic.security`` (an audited
event). In production they are written to standard error as JSON; elsewhere only when
``ACCESS_LOG=1`` (tests and the demo would drown in them otherwise).
"""

from __future__ import annotations

import json
import logging
import os
import re
import sys
import time
import uuid
from datetime import UTC, datetime

from flask import Flask, g, has_app_context, request

REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")

access_log = logging.getLogger("civic.access")
security_log = logging.getLogger("civic.security")


class JsonLines(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line = {"ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
                "level": record.levelname.lower(), "logger": record.name, "message": record.getMessage(),
                **getattr(record, "fields", {})}
        return json.dumps(line, ensure_ascii=False, default=str)


def _install_handler(production: bool) -> None:
    civic = logging.getLogger("civic")
    if any(isinstance(h.formatter, JsonLines) for h in civic.handlers):
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonLines())
    civic.addHandler(handler)
    civic.propagate = True  # test capture and any operator's root handler see them too
    enabled = production or os.environ.get("ACCESS_LOG") == "1"
    civic.setLevel(logging.INFO if enabled else logging.WARNING)


def request_id() -> str | None:
    """This request's id; in a job's app context, the id of the request it was handed from
    (``carry_request_id``), else None."""
    return g.get("request_id") if has_app_context() else None


def carry_request_id(rid: str | None) -> None:
    """In a background job's app context: what it queues or logs names the request that started it."""
    g.request_id = rid


def route_rule() -> str:
    """The request's route as its rule (``/cases/<case_id>``): never the path, which carries ids and tokens."""
    return request.url_rule.rule if request.url_rule is not None else "unmatched"


def seconds_taken() -> float | None:
    """Since this request's start (None when it never reached ``name_the_request``)."""
    started = g.get("request_started")
    return None if started is None else time.perf_counter() - started


def log_security_event(app_name: str, kind: str, **fields) -> None:
    security_log.info(kind, extra={"fields": {"app": app_name, "event": kind, "request_id": request_id(), **fields}})


def init_request_log(app: Flask) -> None:
    settings = app.config["SETTINGS"]
    _install_handler(settings.production)

    @app.before_request
    def name_the_request():
        offered = request.headers.get("X-Request-ID", "")
        g.request_id = offered if REQUEST_ID.fullmatch(offered) else uuid.uuid4().hex
        g.request_started = time.perf_counter()

    @app.after_request
    def log_the_request(response):
        response.headers["X-Request-ID"] = g.get("request_id", "")
        taken = seconds_taken()
        access_log.info("request", extra={"fields": {
            "app": settings.app_name, "request_id": g.get("request_id"), "method": request.method,
            "route": route_rule(), "status": response.status_code,
            "duration_ms": round((taken or 0.0) * 1000, 1)}})
        return response
