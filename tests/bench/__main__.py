"""`make bench`: run every benchmark module (tests/bench/bench_*.py) in turn, bounded in time,
and print one table of figures beside their peer or bound.

A module exposes ``run(budget: float) -> list[Row]``; modules that only have a ``main()`` are run
as a subprocess and their output is shown as is.
"""

from __future__ import annotations

import importlib
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

from tests.bench.table import Row, print_table

HERE = Path(__file__).parent


def machine() -> str:
    cpu = "unknown cpu"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{platform.node()} · {cpu} · {os.cpu_count()} cores · Python {platform.python_version()}"


def main() -> None:
    budget = float(os.environ.get("BENCH_BUDGET", 10))
    only = sys.argv[1:]
    load_before, started_at = os.getloadavg(), time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    rows: list[Row] = []
    for path in sorted(HERE.glob("bench_*.py")):
        name = path.stem
        if only and not any(o in name for o in only):
            continue
        module = importlib.import_module(f"tests.bench.{name}")
        started = time.monotonic()
        print(f"· {name} …", flush=True)
        if hasattr(module, "run"):
            try:
                rows.extend(module.run(budget))
            except Exception as error:  # one broken benchmark must not hide the others
                rows.append(Row(name, "failed", float("nan"), "", note=repr(error)[:80]))
        else:
            result = subprocess.run([sys.executable, "-m", f"tests.bench.{name}"], timeout=budget * 30)
            if result.returncode:
                rows.append(Row(name, "failed", float("nan"), "", note=f"exit {result.returncode}"))
        print(f"  done in {time.monotonic() - started:.1f}s", flush=True)
    print()
    print("Machine:", machine())
    # the cores are shared: the load says how far the absolute figures are from an idle machine
    # (only the ratios, each taken within one benchmark, compare across runs)
    print(f"Run: {started_at}; load average (1/5/15 min) before {'/'.join(f'{v:.1f}' for v in load_before)}, "
          f"after {'/'.join(f'{v:.1f}' for v in os.getloadavg())} on {os.cpu_count()} cores")
    print_table(rows)


if __name__ == "__main__":
    main()
