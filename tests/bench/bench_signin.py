"""Sign-in throughput: full identifier-first sign-ins per second (GET the form, identifier, password,
back to the page) against the IdP under gunicorn on PostgreSQL and Redis, beside the bound set by
argon2id verification alone on the same cores (target: 90% of it). Then the same with two IdP
instances sharing the databases, against one. Argon2id with the production parameters."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
import uuid
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from tests.bench.bench_argon2 import argon2_bound
from tests.bench.cpu import cpu_seconds
from tests.bench.table import Row
from tests.idp.helpers import csrf_token
from tests.servers import create_database, free_port, gunicorn, postgres_server, redis_server

REPO = Path(__file__).resolve().parents[2]
USERS = 50
PASSWORD = "Bench-Passw0rd-1"
SERVER_PROCESSES = ("postgres", "redis-server")


def _sign_ins(args: tuple[list[str], float, int]) -> tuple[int, int, float]:
    """One client process: complete sign-ins in a loop until the deadline, spread over instances.
    Returns (completed, failed, CPU seconds the client itself used)."""
    import requests

    bases, seconds, offset = args
    done, failed, deadline, n = 0, 0, time.monotonic() + seconds, offset
    cpu = time.process_time()
    while time.monotonic() < deadline:
        base = bases[n % len(bases)]
        http = requests.Session()
        page = http.get(f"{base}/signin?next=/")
        page = http.post(page.url, data={"csrf_token": csrf_token(page.text), "identifier": f"user{n % USERS}@bench.example"})
        answer = http.post(page.url, data={"csrf_token": csrf_token(page.text), "password": PASSWORD})
        if answer.url.rstrip("/") == base.rstrip("/") and answer.status_code == 200:
            done += 1
        else:
            failed += 1
        n += 1
    return done, failed, time.process_time() - cpu


def _measure(bases: list[str], seconds: float, clients: int, servers: list[int] = ()) -> tuple[float, float, float]:
    """(sign-ins per second, share of the machine's CPU the load generator used, CPU seconds the
    servers — the IdP's processes, PostgreSQL and Redis — spent per sign-in)."""
    before = cpu_seconds(servers, SERVER_PROCESSES)
    with ProcessPoolExecutor(clients) as pool:
        results = list(pool.map(_sign_ins, [(bases, seconds, i * 7) for i in range(clients)]))
    server_cpu = cpu_seconds(servers, SERVER_PROCESSES) - before
    failed = sum(r[1] for r in results)
    if failed:
        raise RuntimeError(f"{failed} sign-ins did not end signed in on {bases}")
    done = sum(r[0] for r in results)
    return done / seconds, sum(r[2] for r in results) / (seconds * (os.cpu_count() or 1)), server_cpu / max(1, done)


def run(budget: float) -> list[Row]:
    cores = os.cpu_count() or 1
    # Each sign-in is six requests in a row; with one client per core the server would wait on
    # the clients between them, so there are enough clients to keep every core busy.
    clients = int(os.environ.get("BENCH_SIGNIN_CLIENTS", 4 * cores))
    folder = Path(tempfile.mkdtemp(prefix="bench-signin-"))
    with postgres_server() as (pg_url, _port), redis_server() as redis_url:
        database = create_database(pg_url, f"bench_{uuid.uuid4().hex[:8]}")
        port_a, port_b = free_port(), free_port()
        env = {**os.environ, "INSTANCE_PATH": str(folder / "instance"), "KEYS_DIR": str(folder / "keys"),
               "DATABASE_URL": database, "REDIS_URL": redis_url, "ISSUER": f"http://127.0.0.1:{port_a}"}
        env.pop("ARGON2_PROFILE", None)
        setup = ("from idp import create_app, upgrade_database; import os;"
                 "upgrade_database(os.environ['DATABASE_URL']); app = create_app({'_quiet': True});"
                 "from idp.services import accounts; ctx = app.app_context(); ctx.push();"
                 f"[accounts.create(f'user{{i}}@bench.example', '{PASSWORD}') for i in range({USERS})]")
        subprocess.run([sys.executable, "-c", setup], env=env, cwd=REPO, check=True, capture_output=True)
        first = gunicorn("idp:create_app()", port_a, env, cores)
        try:
            _measure([f"http://127.0.0.1:{port_a}"], 2, clients)  # warm-up
            # The bound is taken just before and just after, and averaged: on a shared VM the cores'
            # speed drifts within a minute, and the ratio must compare like with like.
            bound = argon2_bound(budget / 6)
            one, client_share, cpu_per_sign_in = _measure([f"http://127.0.0.1:{port_a}"], budget / 3, clients,
                                                          [first.pid])
            bound = (bound + argon2_bound(budget / 6)) / 2
            second = gunicorn("idp:create_app()", port_b, env, cores)
            try:
                two, _, _ = _measure([f"http://127.0.0.1:{port_a}", f"http://127.0.0.1:{port_b}"], budget / 3, clients)
            finally:
                second.terminate()
                second.wait(10)
        finally:
            first.terminate()
            first.wait(10)
    verification = cores / bound  # CPU seconds of one argon2id verification
    return [
        Row("sign-in", f"identifier-first sign-ins, {cores} cores", one, "/s", "argon2id bound", bound, target=0.9,
            note=f"the Python clients used {client_share:.0%} of the cores"),
        Row("sign-in", "  server CPU per sign-in", cpu_per_sign_in * 1000, "ms", "one argon2id verification",
            verification * 1000, higher_is_better=False, target=0.9,
            note="IdP + PostgreSQL + Redis, load generator apart: the bound the cores would reach"),
        Row("sign-in", "two IdP instances (shared PG + Redis)", two, "/s", "one instance", one,
            note="same cores: the ratio shows the cost of sharing, not added capacity"),
    ]


if __name__ == "__main__":
    from tests.bench.table import print_table

    print_table(run(float(os.environ.get("BENCH_BUDGET", 12))))
