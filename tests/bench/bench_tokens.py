"""Token endpoint: authorization-code exchanges, refresh grants and client-credentials grants per
second with their p99 latency, our IdP under gunicorn beside node-oidc-provider (npm) in the same
run, with equivalent settings: JWT access tokens (ours signed ES256, node's RS256) and ID tokens
signed RS256, client_secret_basic, PKCE S256, refresh tokens rotated on every use, one process per
core, codes in Redis (node keeps everything in Redis with the adapter of its own example; we keep
refresh tokens in PostgreSQL).

Codes and refresh tokens are single-use, so each side mints enough of them beforehand (ours
through our storage, node's through its models) and wrk presents each exactly once."""

from __future__ import annotations

import base64
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path

from tests.bench.table import Row
from tests.bench.wrk import wrk
from tests.servers import create_database, free_port, gunicorn, postgres_server, redis_server

REPO = Path(__file__).resolve().parents[2]
NODE_DIR = Path(__file__).parent / "node_token_op"
SECRET = "bench-secret-0123456789"
REDIRECT_URI = "http://127.0.0.1/cb"
VERIFIER = "bench-code-verifier-0123456789-abcdefghijklmnop"
MINTED_PER_SECOND = 2500  # more single-use credentials than either side can spend in a second


def mint_ours(count: int, codes_file: str, refresh_file: str) -> None:
    """Run inside the IdP's environment: the bench client, 100 accounts, ``count`` authorization
    codes (as /authorize stores them) and ``count`` refresh tokens (as the token endpoint does)."""
    import json
    import secrets

    from idp import create_app, upgrade_database
    from idp.oidc import grants
    from idp.services import accounts, clients
    from idp.storage.sql.models import RefreshToken
    from shared.appkit import get_db, get_redis

    upgrade_database(os.environ["DATABASE_URL"])
    app = create_app({"_quiet": True})
    with app.app_context():
        clients.create("bench", [REDIRECT_URI], client_id="eservices", secret=SECRET,
                       scope="openid offline_access management", first_party=True,
                       grant_types=["authorization_code", "refresh_token", "client_credentials"])
        people = [accounts.create(f"user{i}@bench.example", check_rules=False) for i in range(100)]
        challenge = base64.urlsafe_b64encode(hashlib.sha256(VERIFIER.encode()).digest()).rstrip(b"=").decode()
        codes, refresh_tokens = [], []
        pipe = get_redis().pipeline(transaction=False)
        with get_db().session() as session:
            for i in range(count):
                account, code, refresh = people[i % 100], secrets.token_urlsafe(32), secrets.token_urlsafe(48)
                stored = grants.StoredCode(
                    client_id="eservices", account_id=account.id, redirect_uri=REDIRECT_URI, scope="openid offline_access",
                    nonce=None, code_challenge=challenge, code_challenge_method="S256", auth_time=1, acr=None,
                    amr=["pwd"], sid=None, context={})
                pipe.set(f"idp:code:{grants.digest(code)}", json.dumps(stored.__dict__), ex=3600)
                session.add(RefreshToken(
                    token_hash=grants.digest(refresh), family_id=secrets.token_urlsafe(16), client_id="eservices",
                    account_id=account.id, scope="openid offline_access", sid=None, auth_time=1, acr=None,
                    amr=["pwd"], claims={}, expires_at=grants.refresh_expiry()))
                codes.append(code)
                refresh_tokens.append(refresh)
        pipe.execute()
    Path(codes_file).write_text("\n".join(codes) + "\n")
    Path(refresh_file).write_text("\n".join(refresh_tokens) + "\n")


def start_ours(folder: Path, workers: int, database: str, redis_url: str, count: int) -> tuple[subprocess.Popen, str]:
    port = free_port()
    env = {**os.environ, "INSTANCE_PATH": str(folder / "instance"), "KEYS_DIR": str(folder / "keys"),
           "DATABASE_URL": database, "REDIS_URL": redis_url, "ISSUER": f"http://127.0.0.1:{port}"}
    setup = (f"from tests.bench.bench_tokens import mint_ours; "
             f"mint_ours({count}, '{folder / 'ours-codes'}', '{folder / 'ours-refresh'}')")
    subprocess.run([sys.executable, "-c", setup], env=env, cwd=REPO, check=True, capture_output=True)
    return gunicorn("idp:create_app()", port, env, workers), f"http://127.0.0.1:{port}/token"


def start_node(folder: Path, workers: int, redis_url: str, count: int) -> tuple[subprocess.Popen, str]:
    if not (NODE_DIR / "node_modules" / "oidc-provider").exists():
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=NODE_DIR, check=True, capture_output=True,
                       timeout=600)
    port = free_port()
    env = {**os.environ, "PORT": str(port), "WORKERS": str(workers), "CLIENT_SECRET": SECRET, "NODE_ENV": "production",
           "REDIS_URL": redis_url, "MINT": str(count), "CODE_VERIFIER": VERIFIER,
           "CODES_FILE": str(folder / "node-codes"), "REFRESH_FILE": str(folder / "node-refresh")}
    process = subprocess.Popen(["node", "provider.js"], cwd=NODE_DIR, stdout=subprocess.PIPE,
                               stderr=subprocess.DEVNULL, env=env, text=True)
    for line in process.stdout:
        if "listening" in line:
            break
    else:
        raise RuntimeError(f"node-oidc-provider exited with {process.wait()}")
    return process, f"http://127.0.0.1:{port}/token"


def run(budget: float) -> list[Row]:
    if not shutil.which("wrk") or not shutil.which("node"):
        return [Row("tokens", "skipped: needs wrk and node", float("nan"), "")]
    workers = os.cpu_count() or 1
    seconds = budget / 4
    count = int(MINTED_PER_SECOND * max(2, seconds)) + 500
    folder = Path(tempfile.mkdtemp(prefix="bench-tokens-"))
    auth = base64.b64encode(f"eservices:{SECRET}".encode()).decode()
    headers = {"Authorization": f"Basic {auth}", "Content-Type": "application/x-www-form-urlencoded"}
    grants = {  # name: (our body, node's body, file holding the single-use values, or None)
        "client_credentials": ("grant_type=client_credentials&scope=management",
                               "grant_type=client_credentials&scope=api", None),
        "refresh_token": ("grant_type=refresh_token&refresh_token=",) * 2 + ("refresh",),
        "authorization_code": (f"grant_type=authorization_code&redirect_uri=http%3A%2F%2F127.0.0.1%2Fcb"
                               f"&code_verifier={VERIFIER}&code=",) * 2 + ("codes",),
    }
    figures: dict[str, dict[str, tuple[float, float]]] = {"ours": {}, "node": {}}
    try:
        with postgres_server() as (pg_url, _port), redis_server() as redis_url:
            database = create_database(pg_url, f"bench_{uuid.uuid4().hex[:8]}")
            ours, ours_url = start_ours(folder, workers, database, redis_url, count)
            node, node_url = start_node(folder, workers, redis_url.rsplit("/", 1)[0] + "/1", count)
            try:
                for side, url in (("ours", ours_url), ("node", node_url)):  # warm-up: keys loaded, caches filled
                    wrk(url, 2, body=grants["client_credentials"][0 if side == "ours" else 1], headers=headers)
                for name, (ours_body, node_body, values) in grants.items():
                    for side, url, body in (("ours", ours_url, ours_body), ("node", node_url, node_body)):
                        figures[side][name] = wrk(url, seconds, body=body, headers=headers,
                                                  values=folder / f"{side}-{values}" if values else None)
            finally:
                for process in (ours, node):
                    process.terminate()
                    process.wait(10)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    rows = []
    for name in grants:
        (ours_rps, ours_p99), (node_rps, node_p99) = figures["ours"][name], figures["node"][name]
        rows += [
            Row("tokens", f"{name} grants, {workers} procs", ours_rps, "req/s", "node-oidc-provider", node_rps, target=1.0),
            Row("tokens", f"{name} p99", ours_p99, "ms", "node-oidc-provider", node_p99, higher_is_better=False,
                target=1.0),
        ]
    for name, keycloak in (("client_credentials", 120.0), ("refresh_token", 120.0)):
        rows.append(Row("tokens", f"{name} per core", figures["ours"][name][0] / workers, "req/s",
                        "Keycloak sizing /s/vCPU", keycloak))
    return rows


if __name__ == "__main__":
    from tests.bench.table import print_table

    print_table(run(float(os.environ.get("BENCH_BUDGET", 16))))
