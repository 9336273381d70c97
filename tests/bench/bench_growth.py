"""Growth: the lookups on the path of a sign-in and a token (account by email, by identifier,
refresh token by hash, client by id, audit events of an account) with 1,000 and with 1,000,000
accounts: time per lookup and the query plans, which must reach every table by an index. The
databases are built once into instance/bench/ (BENCH_GROWTH_MAX to change the large size)."""

from __future__ import annotations

import os
import statistics
import time
from datetime import timedelta
from pathlib import Path

from sqlalchemy import insert, text

from tests.bench.table import Row

REPO = Path(__file__).resolve().parents[2]
LARGE = int(os.environ.get("BENCH_GROWTH_MAX", 1_000_000))

LOOKUPS = {
    "account by email": ("SELECT * FROM accounts WHERE email = :v", lambda n: f"user{n}@growth.example"),
    "account by identifier": ("SELECT * FROM accounts WHERE username = :v", lambda n: f"user-{n}"),
    "refresh token by hash": ("SELECT * FROM refresh_tokens WHERE token_hash = :v", lambda n: f"{n:064d}"),
    "client by id": ("SELECT * FROM clients WHERE client_id = :v", lambda n: "growth"),
    "audit of an account": ("SELECT * FROM audit_events WHERE account_id = :v ORDER BY at DESC LIMIT 20",
                            lambda n: f"a{n:035d}"),
}


def build(engine, size: int) -> None:
    from idp.storage.sql.models import Account, AuditEvent, Client, RefreshToken
    from shared.timeutil import utcnow

    now = utcnow()
    with engine.begin() as connection:
        connection.execute(insert(Client), [{"client_id": "growth", "name": "growth", "redirect_uris": [],
                                             "post_logout_redirect_uris": [], "grant_types": [], "response_types": [],
                                             "scope": "openid", "token_endpoint_auth_method": "client_secret_basic",
                                             "require_pkce": True, "id_token_signed_response_alg": "RS256",
                                             "first_party": True, "policy": {}, "created_at": now}])
        for start in range(0, size, 20_000):
            rows = range(start, min(size, start + 20_000))
            connection.execute(insert(Account), [{
                "id": f"a{n:035d}", "email": f"user{n}@growth.example", "username": f"user-{n}",
                "password_hash": "x", "status": "active", "email_verified": True, "locale": "fr", "roles": [],
                "created_at": now} for n in rows])
            connection.execute(insert(RefreshToken), [{
                "id": f"r{n:035d}", "token_hash": f"{n:064d}", "family_id": f"f{n:035d}", "client_id": "growth",
                "account_id": f"a{n:035d}", "scope": "openid", "amr": [], "claims": {}, "issued_at": now,
                "expires_at": now + timedelta(days=30)} for n in rows])
            connection.execute(insert(AuditEvent), [{
                "at": now, "kind": "sign_in", "account_id": f"a{n:035d}", "detail": {}} for n in rows])
        connection.execute(text("ANALYZE"))


def measure(engine, size: int, seconds: float) -> dict[str, tuple[float, list[str]]]:
    import random

    rng = random.Random(3)
    results = {}
    with engine.connect() as connection:
        for name, (sql, value) in LOOKUPS.items():
            plan = [row[-1] for row in connection.execute(text("EXPLAIN QUERY PLAN " + sql), {"v": value(0)})]
            timings, deadline = [], time.monotonic() + seconds / len(LOOKUPS)
            while time.monotonic() < deadline or len(timings) < 50:
                started = time.perf_counter()
                connection.execute(text(sql), {"v": value(rng.randrange(size))}).fetchall()
                timings.append(time.perf_counter() - started)
            results[name] = (statistics.median(timings) * 1e6, plan)
    return results


def run(budget: float) -> list[Row]:
    from sqlalchemy import create_engine

    from idp import upgrade_database

    folder = REPO / "instance" / "bench"
    folder.mkdir(parents=True, exist_ok=True)
    figures = {}
    for size in (1_000, LARGE):
        path = folder / f"idp-growth-{size}.db"
        url = f"sqlite:///{path}"
        if not path.exists():
            print(f"  building {size:,} accounts (once; kept in {path.relative_to(REPO)}) …", flush=True)
            upgrade_database(url)
            build(create_engine(url), size)
        figures[size] = measure(create_engine(url), size, budget / 2)
    rows = []
    for name in LOOKUPS:
        small, (large, plan) = figures[1_000][name][0], figures[LARGE][name]
        scans = [line for line in plan if line.startswith("SCAN") and "INDEX" not in line]
        rows.append(Row("growth", f"{name}, {LARGE:,} accounts", large, "µs", "1,000 accounts", small,
                        higher_is_better=False, note="; ".join(scans) or "index: " + "; ".join(plan)[:60]))
    return rows


if __name__ == "__main__":
    from tests.bench.table import print_table

    print_table(run(float(os.environ.get("BENCH_BUDGET", 10))))
