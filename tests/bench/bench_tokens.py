"""Token endpoint: client-credentials grants per second and p99 latency, our IdP under gunicorn
beside node-oidc-provider (npm) in the same run, with equivalent settings: JWT access tokens
signed RS256, client_secret_basic, one process per core. Load from wrk (Debian) on loopback."""

from __future__ import annotations

import base64
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tests.bench.table import Row
from tests.bench.wrk import wrk
from tests.servers import free_port, gunicorn

REPO = Path(__file__).resolve().parents[2]
NODE_DIR = Path(__file__).parent / "node_token_op"
SECRET = "bench-secret-0123456789"


def start_ours(folder: Path, workers: int) -> tuple[subprocess.Popen, str]:
    env = {**os.environ, "INSTANCE_PATH": str(folder / "instance"), "KEYS_DIR": str(folder / "keys"),
           "DATABASE_URL": f"sqlite:///{folder / 'idp.db'}"}
    env.pop("REDIS_URL", None)
    port = free_port()
    env["ISSUER"] = f"http://127.0.0.1:{port}"
    setup = ("from idp import create_app, upgrade_database; import os;"
             "upgrade_database(os.environ['DATABASE_URL']);"
             "app = create_app({'_quiet': True});"
             "from idp.services import clients;"
             "ctx = app.app_context(); ctx.push();"
             f"clients.create('bench', [], client_id='bench', secret='{SECRET}', scope='court_feed',"
             "grant_types=['client_credentials'], first_party=True)")
    subprocess.run([sys.executable, "-c", setup], env=env, cwd=REPO, check=True, capture_output=True)
    return gunicorn("idp:create_app()", port, env, workers), f"http://127.0.0.1:{port}/token"


def start_node(workers: int) -> tuple[subprocess.Popen, str]:
    if not (REPO / "tests/idp/federation/node_op/node_modules/oidc-provider").exists():
        from tests.idp.federation.node_op import ensure_installed

        ensure_installed()
    port = free_port()
    process = subprocess.Popen(["node", "provider.js"], cwd=NODE_DIR, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                               env={**os.environ, "PORT": str(port), "WORKERS": str(workers),
                                    "CLIENT_SECRET": SECRET, "NODE_ENV": "production"}, text=True)
    for line in process.stdout:
        if "listening" in line:
            break
    return process, f"http://127.0.0.1:{port}/token"


def run(budget: float) -> list[Row]:
    if not shutil.which("wrk") or not shutil.which("node"):
        return [Row("tokens", "skipped: needs wrk and node", float("nan"), "")]
    workers = os.cpu_count() or 1
    folder = Path(tempfile.mkdtemp(prefix="bench-tokens-"))
    auth = base64.b64encode(f"bench:{SECRET}".encode()).decode()
    headers = {"Authorization": f"Basic {auth}", "Content-Type": "application/x-www-form-urlencoded"}
    ours_body, node_body = "grant_type=client_credentials&scope=court_feed", "grant_type=client_credentials&scope=api"
    ours, ours_url = start_ours(folder, workers)
    node, node_url = start_node(workers)
    try:
        wrk(ours_url, 2, body=ours_body, headers=headers)  # warm-up: keys loaded, caches filled
        wrk(node_url, 2, body=node_body, headers=headers)
        ours_rps, ours_p99 = wrk(ours_url, budget / 2, body=ours_body, headers=headers)
        node_rps, node_p99 = wrk(node_url, budget / 2, body=node_body, headers=headers)
    finally:
        for process in (ours, node):
            process.terminate()
            process.wait(10)
        shutil.rmtree(folder, ignore_errors=True)
    return [
        Row("tokens", f"client_credentials grants, {workers} procs", ours_rps, "req/s", "node-oidc-provider", node_rps,
            target=1.0),
        Row("tokens", "client_credentials p99", ours_p99, "ms", "node-oidc-provider", node_p99,
            higher_is_better=False, target=1.0),
        Row("tokens", "client_credentials per core", ours_rps / workers, "req/s", "Keycloak sizing 120/s/vCPU", 120.0),
    ]


if __name__ == "__main__":
    from tests.bench.table import print_table

    started = time.monotonic()
    print_table(run(float(os.environ.get("BENCH_BUDGET", 10))))
