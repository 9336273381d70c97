"""/healthz and /readyz on every app: what a load balancer asks before sending people there.

/readyz answers "unready" (503) while the database is down and "ready" again once it is back, with
no detail an outsider could use and no cookie; /healthz never touches storage."""

from __future__ import annotations

import importlib
import time
import uuid

import pytest
import requests

from tests.idp.helpers import start_idp
from tests.servers import PostgresProcess, create_database

APPS = ["idp", "portals.ecomms", "portals.justice", "portals.eservices"]


@pytest.fixture(params=APPS)
def app(request, tmp_path):
    package = importlib.import_module(request.param)
    database = f"sqlite:///{tmp_path / 'app.db'}"
    package.upgrade_database(database)
    (tmp_path / "instance").mkdir()
    return package.create_app({"database_url": database, "_quiet": True, "instance_path": tmp_path / "instance"})


def test_every_app_is_alive_and_ready_without_a_cookie(app):
    client = app.test_client()
    alive = client.get("/healthz")
    assert alive.status_code == 200 and alive.json == {"status": "alive"}
    ready = client.get("/readyz")
    assert ready.status_code == 200 and ready.json["status"] == "ready", ready.json
    assert {"database", "redis"} <= set(ready.json["checks"])
    for answer in (alive, ready):
        assert "Set-Cookie" not in answer.headers and answer.headers["Cache-Control"] == "no-store"


def test_the_idp_is_unready_without_its_signing_keys(tmp_path):
    from idp import create_app, upgrade_database

    database = f"sqlite:///{tmp_path / 'idp.db'}"
    upgrade_database(database)
    app = create_app({"database_url": database, "_quiet": True})
    state = app.extensions["keyring"].state_file
    saved = state.read_bytes()
    state.write_text("{}")  # the key folder emptied or unreadable under the running process
    try:
        ready = app.test_client().get("/readyz")
        assert ready.status_code == 503 and ready.json["checks"]["signing_keys"] == "unavailable"
    finally:
        state.write_bytes(saved)


def test_readyz_follows_postgres_down_and_back(real_redis_url):
    postgres = PostgresProcess()
    postgres.start()
    try:
        idp = start_idp(create_database(postgres.url, f"idp_{uuid.uuid4().hex[:8]}"), real_redis_url)
        try:
            assert requests.get(f"{idp.url}/readyz").json()["status"] == "ready"
            postgres.stop()
            down = requests.get(f"{idp.url}/readyz")
            assert down.status_code == 503
            assert down.json() == {"status": "unready", "checks": {
                "database": "unavailable", "redis": "ok", "signing_keys": "ok"}}, "names the failing part, no detail"
            assert requests.get(f"{idp.url}/healthz").status_code == 200, "alive while its database is down"
            postgres.start()
            deadline = time.monotonic() + 15
            while requests.get(f"{idp.url}/readyz").status_code != 200:
                assert time.monotonic() < deadline, "/readyz did not come back with PostgreSQL"
                time.sleep(0.2)
        finally:
            idp.stop()
    finally:
        postgres.remove()
