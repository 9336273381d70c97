"""Prometheus metrics: the figures of every gunicorn worker added up, in a form Prometheus parses,
with no personal data in them, and closed outside development unless the operator gave a token."""

from __future__ import annotations

import os
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from tests.idp.helpers import csrf_token, make_user, start_idp
from tests.servers import free_port, gunicorn

REPO = Path(__file__).resolve().parents[2]


def samples(text: str) -> dict[tuple[str, tuple], float]:
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


DISCOVERY = "/.well-known/openid-configuration"  # the test's own traffic (the start-up probes ask /healthz)


def discovery_count(text: str) -> float:
    return sum(value for (name, labels), value in samples(text).items()
               if name == "civic_http_requests_total" and ("route", DISCOVERY) in labels)


@pytest.fixture
def two_workers(tmp_path, real_redis_url):
    from idp import upgrade_database

    database = f"sqlite:///{tmp_path / 'idp.db'}"
    upgrade_database(database)
    metrics_folder = tmp_path / "metrics"
    metrics_folder.mkdir()
    port = free_port()
    env = {**os.environ, "DATABASE_URL": database, "REDIS_URL": real_redis_url,
           "ISSUER": f"http://127.0.0.1:{port}", "PROMETHEUS_MULTIPROC_DIR": str(metrics_folder)}
    # sync workers, one request at a time each: concurrent requests are shared between the two
    process = gunicorn("idp:create_app()", port, env, 2, 1, "-k", "sync", "-c", str(REPO / "config/gunicorn.conf.py"))
    try:
        yield f"http://127.0.0.1:{port}", metrics_folder
    finally:
        process.terminate()
        process.wait(15)


def test_two_workers_counts_add_up_and_parse(two_workers):
    url, metrics_folder = two_workers
    sent, deadline = 0, time.monotonic() + 60

    def writers() -> set[str]:
        return {path.stem.rsplit("_", 1)[-1] for path in metrics_folder.glob("counter_*.db")}

    while len(writers()) < 2:  # until both workers answered some (the precondition of this test)
        assert time.monotonic() < deadline, "the second worker never answered"
        with ThreadPoolExecutor(8) as pool:
            answers = list(pool.map(lambda _: requests.get(f"{url}{DISCOVERY}", timeout=30).status_code, range(40)))
        assert answers == [200] * 40
        sent += 40
    for _ in range(4):  # whichever worker answers the scrape, it counts the other's requests too
        assert discovery_count(requests.get(f"{url}/metrics", timeout=30).text) == sent


def test_labels_carry_no_personal_data(tmp_path):
    idp = start_idp(f"sqlite:///{tmp_path / 'idp.db'}")
    try:
        email = "nadia.metrics@example.org"
        make_user(idp.app, email, "Bonne-Passe-2026")
        http = requests.Session()
        page = http.get(f"{idp.url}/signin?next=/account")
        page = http.post(page.url, data={"csrf_token": csrf_token(page.text), "identifier": email})
        uid = page.url.split("/interaction/")[1].split("/")[0]
        http.post(page.url, data={"csrf_token": csrf_token(page.text), "password": "Wrong-Passe-1"})
        text = requests.get(f"{idp.url}/metrics").text
        assert email not in text and "nadia" not in text and uid not in text
        counted = samples(text)
        assert counted[("civic_security_events_total", (("app", "idp"), ("kind", "sign_in_failed")))] >= 1
        assert any(name == "civic_http_requests_total" and "<" in dict(labels)["route"]
                   for name, labels in counted), "routes are named by their rule, not their path"
    finally:
        idp.stop()


def test_production_metrics_need_the_operators_token(monkeypatch):
    from flask import Flask

    from shared.config import load_settings
    from shared.metrics import init_metrics

    app = Flask(__name__)
    app.config["SETTINGS"] = load_settings("idp", {"production": True, "_quiet": True, "secret_key": "x" * 40})
    init_metrics(app)
    client = app.test_client()
    monkeypatch.delenv("METRICS_TOKEN", raising=False)
    assert client.get("/metrics").status_code == 404
    monkeypatch.setenv("METRICS_TOKEN", "operators-scrape-token-2026")
    assert client.get("/metrics").status_code == 404
    assert client.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 404
    assert client.get("/metrics", headers={"Authorization": "Bearer operators-scrape-token-2026"}).status_code == 200
