"""Real servers for the tests: redis-server and PostgreSQL started on loopback in temp folders,
and any of our Flask apps served live on a free port.

When the ``CI`` environment variable is set, a missing server is a failure, never a skip:
CI installs them (see ``.ci/run``), so their absence means the run would prove nothing.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from contextlib import contextmanager
from pathlib import Path

import pytest
from werkzeug.serving import make_server


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_port(port: int, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise TimeoutError(f"nothing listens on port {port} after {timeout}s")


def missing(what: str) -> None:
    message = f"{what} is not installed on this machine"
    if os.environ.get("CI"):
        pytest.fail(message + " (CI must install it: see .ci/run)")
    pytest.skip(message)


def npm_install(directory: Path, what: str) -> None:
    """``npm ci`` (or ``npm install`` without a lock file) in a folder of pinned test tools;
    without npm, the test skips locally and fails under CI."""
    npm = shutil.which("npm")
    if not npm:
        missing(f"npm (for {what})")
    command = "ci" if (directory / "package-lock.json").exists() else "install"
    subprocess.run([npm, command, "--no-audit", "--no-fund"], cwd=directory, check=True, capture_output=True,
                   timeout=600)


@contextmanager
def redis_server():
    binary = shutil.which("redis-server")
    if not binary:
        missing("redis-server")
    port = free_port()
    workdir = tempfile.mkdtemp(prefix="redis-")
    proc = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", workdir],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        wait_for_port(port)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        proc.terminate()
        proc.wait(10)
        shutil.rmtree(workdir, ignore_errors=True)


def _pg_bin(name: str) -> str | None:
    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), reverse=True)
    return candidates[0] if candidates else shutil.which(name)


class PostgresProcess:
    """A throwaway PostgreSQL cluster on loopback that tests can stop and start again."""

    def __init__(self):
        self.initdb, self.pg_ctl = _pg_bin("initdb"), _pg_bin("pg_ctl")
        if not self.initdb or not self.pg_ctl:
            missing("PostgreSQL (initdb/pg_ctl)")
        self.port = free_port()
        self.workdir = Path(tempfile.mkdtemp(prefix="pg-"))
        self.datadir = self.workdir / "data"
        self.run_as: list[str] = []
        if os.geteuid() == 0:  # initdb refuses root: run the server as the 'postgres' or 'nobody' user
            user = "postgres" if shutil.which("id") and subprocess.run(["id", "postgres"], capture_output=True).returncode == 0 else "nobody"
            shutil.chown(self.workdir, user)
            self.run_as = ["runuser", "-u", user, "--"]
        subprocess.run([*self.run_as, self.initdb, "-D", str(self.datadir), "-A", "trust", "-U", "postgres", "-E",
                        "UTF8"], check=True, capture_output=True)

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}"

    def start(self) -> None:
        subprocess.run([*self.run_as, self.pg_ctl, "-D", str(self.datadir), "-l", str(self.workdir / "log"), "-w",
                        "-o", f"-p {self.port} -k {self.workdir} -h 127.0.0.1 -c fsync=off", "start"],
                       check=True, capture_output=True)

    def stop(self, mode: str = "immediate") -> None:
        subprocess.run([*self.run_as, self.pg_ctl, "-D", str(self.datadir), "-m", mode, "stop"], capture_output=True)

    def remove(self) -> None:
        self.stop()
        shutil.rmtree(self.workdir, ignore_errors=True)


@contextmanager
def postgres_server():
    server = PostgresProcess()
    server.start()
    try:
        yield server.url, server.port
    finally:
        server.remove()


def create_database(server_url: str, name: str) -> str:
    import psycopg

    with psycopg.connect(server_url + "/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')
    return f"{server_url}/{name}"


class LiveServer:
    """A Flask app served by werkzeug in a thread, on 127.0.0.1:<port>."""

    def __init__(self, app, port: int):
        self.app = app
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self._server = make_server("127.0.0.1", port, app, threaded=True)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def start(self) -> LiveServer:
        self._thread.start()
        wait_for_port(self.port)
        return self

    def stop(self) -> None:
        from shared.jobs import stop_workers

        self._server.shutdown()
        self._thread.join(5)
        if hasattr(self.app, "extensions"):  # a Flask app (not a WSGI wrapper): its outbox and jobs end with it
            stop_workers(self.app)


def gunicorn(target: str, port: int, env: dict, workers: int | None = None, threads: int = 4,
             *extra: str, quiet: bool = True) -> subprocess.Popen:
    """An app under gunicorn (gthread workers, one per core by default) on 127.0.0.1:<port>, ready."""
    import sys

    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", target, "-w", str(workers or os.cpu_count() or 1), "-k", "gthread",
         "--threads", str(threads), "-b", f"127.0.0.1:{port}", "--log-level", "warning", "--no-control-socket",
         *extra],
        cwd=Path(__file__).resolve().parents[1], env=env,
        stdout=subprocess.DEVNULL if quiet else None, stderr=subprocess.DEVNULL if quiet else None)
    wait_until_answering(f"http://127.0.0.1:{port}", process)  # not only the master's socket: the app
    return process


def wait_until_answering(url: str, process: subprocess.Popen, timeout: float = 120.0) -> None:
    """gunicorn's master listens before its workers have imported the app: wait for the app."""
    import requests

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server at {url} exited with {process.returncode}")
        try:
            if requests.get(f"{url}/healthz", timeout=5).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.1)
    raise TimeoutError(f"{url} did not answer /healthz after {timeout}s")


DEMO_OFFSETS = (0, 1, 2, 3, 11, 12, 13, 25, 26)  # the apps, sandbox providers, dev inbox and its SMTP sink


def demo_ports(base: int) -> list[int]:
    return [base + offset for offset in DEMO_OFFSETS]


def free_demo_base() -> int:
    """A ``PORT_BASE`` for the tests' own demo: every port free, below the ephemeral range that
    free_port() draws from, away from a developer's `make demo` on 8000 (tests run beside it)."""
    import random

    bases = list(range(20000, 32000, 100))
    random.Random(os.getpid()).shuffle(bases)  # two test sessions at once pick different ones
    for base in bases:
        if not any(port_busy(port) for port in demo_ports(base)):
            return base
    raise RuntimeError("no free range of ports for a demo")


def port_busy(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


@contextmanager
def demo(env: dict[str, str]):
    """``scripts/demo.py`` as `make demo` runs it (every app under gunicorn, on the ports of
    ``env["PORT_BASE"]``), with ``env``; yields what it printed once everything answers, and stops
    every process after."""
    import signal
    import sys

    busy = [port for port in demo_ports(int(env.get("PORT_BASE", 8000))) if port_busy(port)]
    if busy:
        missing(f"free demo ports (busy: {busy}; stop a running `make demo`)")
    process = subprocess.Popen([sys.executable, "scripts/demo.py"], cwd=Path(__file__).resolve().parents[1],
                               env={**env, "PYTHONUNBUFFERED": "1"}, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True, start_new_session=True)
    output = []
    try:
        for line in process.stdout:  # the runner prints this line once every app answers
            output.append(line)
            if "Press Ctrl-C to stop everything" in line:
                break
        else:
            raise AssertionError("the demo did not start:\n" + "".join(output[-40:]))
        threading.Thread(target=lambda: [None for _ in process.stdout], daemon=True).start()  # keep the pipe drained
        yield "".join(output)
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(30)
