"""`make demo`: migrate, seed demo data, start every app that exists on its port, print where to click.

Embedded defaults only (SQLite files and in-process fakeredis, hence one process per app).
Stop with Ctrl-C: every child process is stopped with it.

Ports: the IdP on 8000, the portals on 8001-8003, the sandbox providers on 8011-8013, the dev inbox
on 8025 (SMTP 1025). ``PORT_BASE=9000`` moves them all (9000…, SMTP 9026), so a second demo, or the
tests' own, runs beside the first.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
os.chdir(REPO)


@dataclass
class App:
    name: str
    module: str  # importable package with create_app()
    port: int
    title: str

    @property
    def exists(self) -> bool:
        return importlib.util.find_spec(self.module) is not None and hasattr(
            importlib.import_module(self.module), "create_app")

    @property
    def url(self) -> str:
        return f"http://localhost:{self.port}"


PORT_BASE = int(os.environ.get("PORT_BASE", "8000"))
SMTP_PORT = 1025 if PORT_BASE == 8000 else PORT_BASE + 26

APPS = [
    App("idp", "idp", PORT_BASE, "Identity provider (Civic ID accounts, FranceConnect-style hub)"),
    App("ecomms", "portals.ecomms", PORT_BASE + 1, "ECHR eComms"),
    App("justice", "portals.justice", PORT_BASE + 2, "Justice – espace personnel"),
    App("eservices", "portals.eservices", PORT_BASE + 3, "E-services des organisations"),
    App("devinbox", "shared.outbox.devinbox", PORT_BASE + 25, "Dev inbox: every email, SMS and letter sent"),
]


def sandbox_port(default_port: int) -> int:
    return default_port - 8000 + PORT_BASE


def address_environment() -> dict[str, str]:
    """Where each app finds the others, for this port base (the apps' defaults are the 8000 ones)."""
    env = {"ISSUER": f"http://localhost:{PORT_BASE}", "DEVINBOX_URL": f"http://localhost:{PORT_BASE + 25}",
           "DEVINBOX_SMTP_PORT": str(SMTP_PORT), "SMTP_URL": f"smtp://localhost:{SMTP_PORT}",
           **{f"{app.name.upper()}_PUBLIC_URL": app.url for app in APPS if app.name not in ("idp", "devinbox")}}
    from idp.upstream.sandbox import SANDBOX_PROVIDERS

    for name, meta in SANDBOX_PROVIDERS.items():
        env[f"UPSTREAM_{name.upper()}_ISSUER"] = f"http://localhost:{sandbox_port(meta['port'])}"
    return env


def port_busy(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


def answers(port: int) -> bool:
    """The app itself answers (gunicorn's master listens before its worker has imported the app)."""
    import urllib.request

    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as answer:  # noqa: S310 (our own)
            return answer.status == 200
    except OSError:
        return False


def wait_for(port: int, proc: subprocess.Popen, timeout: float = 180) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"a process exited early (port {port}); see its output above")
        if answers(port):
            return
        time.sleep(0.2)
    raise SystemExit(f"nothing answers on port {port} after {timeout}s")


def gunicorn(module: str, port: int, extra_env: dict[str, str] | None = None,
             factory: str = "create_app()") -> subprocess.Popen:
    env = {**os.environ, **(extra_env or {})}
    # One worker per app: the embedded Redis stand-in lives in process memory.
    return subprocess.Popen(
        [sys.executable, "-m", "gunicorn", f"{module}:{factory}", "--bind", f"127.0.0.1:{port}",
         "--workers", "1", "--threads", "8", "--log-level", "warning", "--timeout", "120",
         "--no-control-socket"],
        env=env,
    )


def prepare() -> list[str]:
    """Migrate every database, register the clients, seed the demo; returns lines to print."""
    import demo_seed  # scripts/demo_seed.py

    return demo_seed.run([app for app in APPS if app.exists])


def main() -> None:
    apps = [app for app in APPS if app.exists]
    for name, value in address_environment().items():  # an operator's own value wins
        os.environ.setdefault(name, value)
    sys.path.insert(0, str(REPO / "scripts"))
    import demo_seed

    extras = [{**extra, "port": sandbox_port(extra["port"])} for extra in demo_seed.extra_processes()]
    busy = [port for port in [*(app.port for app in apps), *(e["port"] for e in extras), SMTP_PORT] if port_busy(port)]
    if busy:
        raise SystemExit(f"ports already in use: {busy}; stop what runs there (or a previous `make demo`)")
    notes = prepare()
    procs: list[subprocess.Popen] = []

    def stop(*_args) -> None:
        for proc in procs:
            if proc.poll() is None:
                proc.terminate()
        for proc in procs:
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
        raise SystemExit(0)

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    for app in apps:
        procs.append(gunicorn(app.module, app.port))
    for extra in extras:
        procs.append(gunicorn(extra["module"], extra["port"], extra.get("env"), extra.get("factory", "create_app()")))
    for proc, port in zip(procs, [a.port for a in apps] + [e["port"] for e in extras], strict=True):
        wait_for(port, proc)

    print("\n" + "=" * 78)
    print(" The demo is running. Open these in your browser:\n")
    for app in apps:
        print(f"   {app.url:<26} {app.title}")
    for extra in extras:
        print(f"   http://localhost:{extra['port']:<9}      {extra['title']}")
    print(f"\n   Discovery: http://localhost:{PORT_BASE}/.well-known/openid-configuration")
    if notes:
        print("\n Demo accounts and data:")
        for line in notes:
            print("   " + line)
    print("\n Press Ctrl-C to stop everything.")
    print("=" * 78 + "\n", flush=True)
    while True:
        for proc in procs:
            if proc.poll() is not None:
                print(f"a process stopped (exit {proc.returncode}); stopping the demo", file=sys.stderr)
                stop()
        time.sleep(1)


if __name__ == "__main__":
    main()
