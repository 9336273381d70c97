"""Live IdP fixtures: the same integration tests run on SQLite + fakeredis and on PostgreSQL + real Redis."""

from __future__ import annotations

import uuid

import pytest

from tests.idp.helpers import start_idp
from tests.servers import create_database


@pytest.fixture(params=["embedded", "postgres+redis"], scope="module")
def live_idp(request, tmp_path_factory):
    if request.param == "embedded":
        database_url = f"sqlite:///{tmp_path_factory.mktemp('idp')}/idp.db"
        redis_url = None
    else:
        server = request.getfixturevalue("postgres_server_url")
        redis_url = request.getfixturevalue("real_redis_url")
        database_url = create_database(server, f"idp_{uuid.uuid4().hex[:8]}")
    idp = start_idp(database_url, redis_url)
    if redis_url:
        idp.app.extensions["redis"].flushdb()
    yield idp
    idp.stop()


@pytest.fixture(scope="module")
def embedded_idp(tmp_path_factory):
    idp = start_idp(f"sqlite:///{tmp_path_factory.mktemp('idp1')}/idp.db")
    yield idp
    idp.stop()
