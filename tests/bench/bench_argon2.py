"""The physical bound of password sign-in: argon2id verifications per second on all cores,
with the production parameters (at least OWASP's minimum: 19 MiB, t=2, p=1)."""

from __future__ import annotations

import os
import time
from concurrent.futures import ProcessPoolExecutor

from tests.bench.table import Row


def _verify_for(seconds: float) -> int:
    os.environ.pop("ARGON2_PROFILE", None)
    from idp.services.passwords import hash_password, hasher, verify_password

    hasher.cache_clear()
    stored = hash_password("Bench-Passw0rd")
    count, deadline = 0, time.monotonic() + seconds
    while time.monotonic() < deadline:
        assert verify_password(stored, "Bench-Passw0rd").ok
        count += 1
    return count


def argon2_bound(seconds: float, workers: int | None = None) -> float:
    workers = workers or os.cpu_count() or 1
    with ProcessPoolExecutor(workers) as pool:
        counts = list(pool.map(_verify_for, [seconds] * workers))
    return sum(counts) / seconds


def run(budget: float) -> list[Row]:
    single = argon2_bound(budget / 2, 1)
    allcores = argon2_bound(budget / 2)
    return [
        Row("argon2", "argon2id verify, 1 core", single, "verif/s"),
        Row("argon2", f"argon2id verify, {os.cpu_count()} cores", allcores, "verif/s",
            "Keycloak sizing (15/s/vCPU)", 15.0 * (os.cpu_count() or 1)),
    ]


if __name__ == "__main__":
    from tests.bench.table import print_table

    print_table(run(float(os.environ.get("BENCH_BUDGET", 6))))
