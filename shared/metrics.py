"""Prometheus metrics of every app (prometheus-client), served at ``/metrics``.

Under gunicorn each worker is a process: with ``PROMETHEUS_MULTIPROC_DIR`` set (config/gunicorn.conf.py
sets it) every worker writes its counts there and a scrape of any worker adds them all up, so the
figures do not depend on which worker answered.

Labels never carry personal data: routes are their rules (``/cases/<case_id>``), never paths;
events are kinds; nothing names an account, an address or a client secret.

Outside development the endpoint answers only to ``Authorization: Bearer $METRICS_TOKEN`` (and not
at all when no token is configured): the counts describe the service's traffic to whoever reads them.
"""

from __future__ import annotations

import hmac
import os

from flask import Blueprint, Flask, Response, abort, current_app, request
from prometheus_client import REGISTRY, CollectorRegistry, Counter, Histogram, generate_latest, multiprocess
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from shared.request_log import route_rule, seconds_taken

REQUESTS = Counter("civic_http_requests", "HTTP requests answered", ["app", "route", "method", "status"])
LATENCY = Histogram("civic_http_request_duration_seconds", "Time to answer an HTTP request", ["app", "route"],
                    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10))
SECURITY_EVENTS = Counter("civic_security_events", "Audited events (sign-ins, refusals, changes) by kind",
                          ["app", "kind"])
TOKENS_ISSUED = Counter("civic_tokens_issued", "Tokens issued by the IdP, by grant", ["grant_type"])
OUTBOX_FAILURES = Counter("civic_outbox_failures", "Outbox deliveries that failed (retried later)", ["app", "channel"])
UPSTREAM_ERRORS = Counter("civic_upstream_errors", "Upstream identity providers' failed sign-ins", ["provider", "code"])

metrics = Blueprint("metrics", __name__)


def count_security_event(kind: str) -> None:
    SECURITY_EVENTS.labels(current_app.config["SETTINGS"].app_name, kind).inc()


class OutboxDepth:
    """Messages waiting for delivery, counted in the database at scrape time (the one truth for
    every worker and instance)."""

    def __init__(self, app: Flask):
        self.app = app

    def collect(self):
        from sqlalchemy import func, select

        model = self.app.extensions.get("outbox_model")
        family = GaugeMetricFamily("civic_outbox_queue_depth", "Messages waiting for delivery", labels=["app", "status"])
        if model is not None:
            with self.app.extensions["db"].session() as session:
                rows = session.execute(select(model.status, func.count()).where(model.status.in_(("pending", "sending")))
                                       .group_by(model.status)).all()
            counts = dict(rows)
            for status in ("pending", "sending"):
                family.add_metric([self.app.config["SETTINGS"].app_name, status], counts.get(status, 0))
        yield family


def _allowed() -> bool:
    settings = current_app.config["SETTINGS"]
    token = os.environ.get("METRICS_TOKEN", "")
    if not token:
        return not settings.production
    presented = request.headers.get("Authorization", "")
    return hmac.compare_digest(presented.encode(), f"Bearer {token}".encode())


@metrics.get("/metrics")
def exposition():
    if not _allowed():
        abort(404)
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        counted = CollectorRegistry()
        multiprocess.MultiProcessCollector(counted)
    else:
        counted = REGISTRY
    live = CollectorRegistry()
    live.register(OutboxDepth(current_app._get_current_object()))
    response = Response(generate_latest(counted) + generate_latest(live), mimetype=CONTENT_TYPE_LATEST)
    response.headers["Cache-Control"] = "no-store"
    return response


def init_metrics(app: Flask) -> None:
    app.register_blueprint(metrics)
    name = app.config["SETTINGS"].app_name

    @app.after_request  # the request's start and route are shared.request_log's (one clock per request)
    def count(response):
        route = route_rule()
        REQUESTS.labels(name, route, request.method, str(response.status_code)).inc()
        if (taken := seconds_taken()) is not None:
            LATENCY.labels(name, route).observe(taken)
        return response
