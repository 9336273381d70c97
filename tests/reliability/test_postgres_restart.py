"""PostgreSQL restarted under a running IdP: requests during the outage get a clear 503, the
connection pool recovers by itself afterwards, and nothing committed before is lost."""

from __future__ import annotations

import time
import uuid

import requests

from tests.idp.helpers import make_user, start_idp
from tests.servers import PostgresProcess, create_database


def test_the_idp_survives_a_postgres_restart(real_redis_url):
    postgres = PostgresProcess()
    postgres.start()
    try:
        url = create_database(postgres.url, f"idp_{uuid.uuid4().hex[:8]}")
        idp = start_idp(url, real_redis_url)
        try:
            make_user(idp.app, "paul@example.org", "Bonne-Passe-2026")
            assert requests.get(f"{idp.url}/registration").status_code == 200
            postgres.stop()
            page = requests.post(f"{idp.url}/token", data={"grant_type": "client_credentials"}, auth=("x", "y"))
            assert page.status_code == 503 and page.json()["error"] == "temporarily_unavailable"
            postgres.start()
            deadline = time.monotonic() + 15
            while requests.post(f"{idp.url}/token", data={"grant_type": "client_credentials"},
                                auth=("x", "y")).status_code == 503:
                assert time.monotonic() < deadline, "the IdP did not reconnect to PostgreSQL"
                time.sleep(0.2)
            with idp.app.app_context():
                from idp.services import accounts

                assert accounts.find_by_identifier("paul@example.org") is not None, "nothing lost"
        finally:
            idp.stop()
    finally:
        postgres.remove()
