"""Load from wrk (Debian's package) on loopback: requests per second and p99 latency."""

from __future__ import annotations

import re
import subprocess
import tempfile
from pathlib import Path

THREADS = 2

# Each request POSTs ``body`` followed by the next line of the values file, never the same line twice
# (a single-use credential: an authorization code, a refresh token); each wrk thread takes every
# THREADS-th line so that the threads never share one.
ONE_VALUE_PER_REQUEST = """
local body, values_file, threads = %(body)s, %(values)s, %(threads)d
local next_id = 0
function setup(thread) thread:set("id", next_id); next_id = next_id + 1 end
function init(args)
  values, position = {}, 0
  local index = 0
  for line in io.lines(values_file) do
    if index %% threads == id then values[#values + 1] = line end
    index = index + 1
  end
end
function request()
  position = position + 1
  if values[position] == nil then error("values file exhausted after " .. position .. " requests") end
  return wrk.format("POST", nil, nil, body .. values[position])
end
"""


def _lua_string(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def wrk(url: str, seconds: float, *, body: str | None = None, headers: dict[str, str] | None = None,
        values: Path | None = None) -> tuple[float, float]:
    """(requests per second, p99 in ms); a POST with ``body`` when given, each request's body ending
    with a fresh line of ``values`` when given. Any non-2xx/3xx answer fails."""
    # a 10 s timeout (wrk's default is 2 s): on a loaded machine a slow answer is a p99, not a failure
    command = ["wrk", f"-t{THREADS}", "-c16", f"-d{max(2, int(seconds))}s", "--timeout", "10s", "--latency"]
    for name, value in (headers or {}).items():
        command += ["-H", f"{name}: {value}"]
    script = None
    if body is not None:
        script = Path(tempfile.mkstemp(suffix=".lua")[1])
        if values is None:
            script.write_text(f'wrk.method = "POST"\nwrk.body = {_lua_string(body)}\n')
        else:
            script.write_text(ONE_VALUE_PER_REQUEST % {"body": _lua_string(body), "values": _lua_string(str(values)),
                                                       "threads": THREADS})
        command += ["-s", str(script)]
    try:
        output = subprocess.run([*command, url], capture_output=True, text=True, check=True).stdout
    finally:
        if script:
            script.unlink()
    if "Non-2xx" in output or "Socket errors" in output:
        raise RuntimeError("errors under load: " + " | ".join(line.strip() for line in output.splitlines() if "error" in line.lower() or "Non-2xx" in line))
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))
    p99 = re.search(r"99%\s+([\d.]+)(us|ms|s)", output)
    return rps, float(p99.group(1)) * {"us": 0.001, "ms": 1, "s": 1000}[p99.group(2)]
