"""Load from wrk (Debian's package) on loopback: requests per second and p99 latency."""

from __future__ import annotations

import re
import subprocess
import tempfile
from pathlib import Path


def wrk(url: str, seconds: float, *, body: str | None = None, headers: dict[str, str] | None = None) -> tuple[float, float]:
    """(requests per second, p99 in ms); a POST with ``body`` when given. Any non-2xx/3xx fails."""
    command = ["wrk", "-t2", "-c16", f"-d{max(2, int(seconds))}s", "--latency"]
    for name, value in (headers or {}).items():
        command += ["-H", f"{name}: {value}"]
    script = None
    if body is not None:
        script = Path(tempfile.mkstemp(suffix=".lua")[1])
        script.write_text(f'wrk.method = "POST"\nwrk.body = "{body}"\n')
        command += ["-s", str(script)]
    try:
        output = subprocess.run([*command, url], capture_output=True, text=True, check=True).stdout
    finally:
        if script:
            script.unlink()
    if "Non-2xx" in output:
        raise RuntimeError("errors under load:\n" + output)
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))
    p99 = re.search(r"99%\s+([\d.]+)(us|ms|s)", output)
    return rps, float(p99.group(1)) * {"us": 0.001, "ms": 1, "s": 1000}[p99.group(2)]
