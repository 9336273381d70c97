"""Load (slow: `make test-slow`, run by CI): 200 concurrent users sign in at eComms through the IdP
and browse for 60 s (LOAD_SECONDS), both apps under gunicorn on PostgreSQL and Redis. Zero server
errors, every sign-in lands, and the figures are printed."""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests
from urllib3.util.retry import Retry

from tests.idp.helpers import csrf_token
from tests.servers import create_database, free_port, gunicorn

pytestmark = pytest.mark.slow
REPO = Path(__file__).resolve().parents[2]
USERS = int(os.environ.get("LOAD_USERS", 200))
SECONDS = float(os.environ.get("LOAD_SECONDS", 60))
PASSWORD = "Load-Passw0rd-1"


def test_200_users_sign_in_and_browse_without_a_server_error(tmp_path, postgres_server_url, real_redis_url):
    idp_port, portal_port = free_port(), free_port()
    idp_url, portal_url = f"http://127.0.0.1:{idp_port}", f"http://127.0.0.1:{portal_port}"
    env = {**os.environ, "INSTANCE_PATH": str(tmp_path / "instance"), "KEYS_DIR": str(tmp_path / "keys"),
           "DATABASE_URL": create_database(postgres_server_url, f"idp_{uuid.uuid4().hex[:8]}"),
           "ECOMMS_DATABASE_URL": create_database(postgres_server_url, f"ecomms_{uuid.uuid4().hex[:8]}"),
           "REDIS_URL": real_redis_url, "ISSUER": idp_url, "ECOMMS_PUBLIC_URL": portal_url,
           "ECOMMS_CLIENT_SECRET": "load-secret-0123456789"}
    setup = f"""
import os
from idp import create_app, upgrade_database
from portals.ecomms import upgrade_database as upgrade_portal
upgrade_database(os.environ["DATABASE_URL"]); upgrade_portal(os.environ["ECOMMS_DATABASE_URL"])
app = create_app({{"_quiet": True}})
from idp.services import accounts, clients
with app.app_context():
    clients.create("ECHR eComms", ["{portal_url}/callback"], post_logout_redirect_uris=["{portal_url}/"],
                   client_id="ecomms", secret=os.environ["ECOMMS_CLIENT_SECRET"], first_party=True,
                   scope="openid profile email offline_access roles")
    for i in range({USERS}):
        accounts.create(f"user{{i}}@load.example", "{PASSWORD}")
"""
    subprocess.run([sys.executable, "-c", setup], cwd=REPO, env=env, check=True, capture_output=True)
    options = ("--timeout", "60", "--keep-alive", "5")
    idp = gunicorn("idp:create_app()", idp_port, env, None, 16, *options, quiet=False)
    portal = gunicorn("portals.ecomms:create_app()", portal_port, env, None, 16, *options, quiet=False)
    latencies: list[float] = []
    errors: list[str] = []
    signed_in = []
    lock = threading.Lock()

    def timed(http: requests.Session, method: str, url: str, **kwargs) -> requests.Response:
        started = time.perf_counter()
        answer = http.request(method, url, timeout=60, **kwargs)
        with lock:
            latencies.append(time.perf_counter() - started)
            for hop in [*answer.history, answer]:
                if hop.status_code >= 500:
                    errors.append(f"{method} {hop.url} {hop.status_code}")
        return answer

    def user(index: int) -> None:
        deadline = time.monotonic() + SECONDS
        http = requests.Session()
        # As browsers do: a request sent on a kept-alive connection the server closed meanwhile is
        # sent again on a new one (server errors are still counted: retries are on the socket only).
        http.mount("http://", requests.adapters.HTTPAdapter(max_retries=Retry(
            total=3, connect=3, read=2, status=0, other=0, allowed_methods=None, raise_on_status=False)))
        try:
            page = timed(http, "GET", f"{portal_url}/login")
            page = timed(http, "POST", page.url, data={"csrf_token": csrf_token(page.text),
                                                       "identifier": f"user{index}@load.example"})
            landed = timed(http, "POST", page.url, data={"csrf_token": csrf_token(page.text), "password": PASSWORD})
            if landed.url.rstrip("/") == portal_url and "logout" in landed.text:
                with lock:
                    signed_in.append(index)
            while time.monotonic() < deadline:
                for path in ("/", "/help", "/terms"):
                    timed(http, "GET", portal_url + path)
        except Exception as error:  # a refused connection or a timeout is a failure too
            with lock:
                errors.append(f"user {index}: {error.__class__.__name__}: {error}")

    try:
        started = time.monotonic()
        with ThreadPoolExecutor(USERS) as pool:
            list(pool.map(user, range(USERS)))
        elapsed = time.monotonic() - started
    finally:
        for process in (idp, portal):
            process.terminate()
            process.wait(20)
    p95 = statistics.quantiles(latencies, n=20)[-1] * 1000 if len(latencies) > 20 else float("nan")
    print(f"\nload: {USERS} users, {elapsed:.0f} s, {len(latencies)} requests, {len(latencies) / elapsed:.0f} req/s, "
          f"p95 {p95:.0f} ms, {len(signed_in)} sign-ins, {len(errors)} errors")
    assert errors == [], errors[:10]
    assert len(signed_in) == USERS, "every user's sign-in landed on the portal"
