"""Fixtures shared by the whole suite.

Every test session gets its own instance and keys folders, so tests never touch the repo's
``instance/`` or ``keys/``. ``real_redis_url`` and ``postgres_url`` start real servers (fail in CI
when missing, skip elsewhere).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

_SESSION_DIR = Path(tempfile.mkdtemp(prefix="civic-tests-"))
os.environ["INSTANCE_PATH"] = str(_SESSION_DIR / "instance")
os.environ["KEYS_DIR"] = str(_SESSION_DIR / "keys")
os.environ.pop("REDIS_URL", None)
os.environ.pop("DATABASE_URL", None)
os.environ.setdefault("ARGON2_PROFILE", "test")  # cheaper argon2 in tests; production parameters are benchmarked

from tests import servers  # noqa: E402


@pytest.fixture(scope="session")
def real_redis_url():
    with servers.redis_server() as url:
        yield url


@pytest.fixture(scope="session")
def postgres_server_url():
    with servers.postgres_server() as (url, _port):
        yield url


@pytest.fixture
def tmp_sqlite_url(tmp_path) -> str:
    return f"sqlite:///{tmp_path / 'test.db'}"


class DevInbox:
    """A running dev inbox (SMTP sink + gateways + API) for tests that follow a message to its recipient."""

    def __init__(self, server, smtp_port: int):
        self.server = server
        self.url = server.url
        self.smtp_url = f"smtp://127.0.0.1:{smtp_port}"
        self.sms_gateway_url = f"{server.url}/gateway/sms"
        self.letter_gateway_url = f"{server.url}/gateway/letters"

    def settings(self) -> dict:
        return {"smtp_url": self.smtp_url, "sms_gateway_url": self.sms_gateway_url,
                "letter_gateway_url": self.letter_gateway_url, "devinbox_url": self.url}

    def messages(self, to: str | None = None, channel: str | None = None) -> list[dict]:
        import requests

        params = {k: v for k, v in {"to": to, "channel": channel}.items() if v}
        return requests.get(f"{self.url}/api/messages", params=params, timeout=5).json()

    def wait_for(self, to: str, count: int = 1, channel: str | None = None, timeout: float = 15.0) -> list[dict]:
        """The messages to ``to`` once at least ``count`` arrived (delivery is asynchronous by design)."""
        import time

        deadline = time.monotonic() + timeout
        while True:
            found = self.messages(to, channel)
            if len(found) >= count or time.monotonic() > deadline:
                assert len(found) >= count, f"expected {count} message(s) to {to}, got {found}"
                return found
            time.sleep(0.1)


DEVINBOX_PROCESS = """
import sys
from werkzeug.serving import make_server
from shared.outbox.devinbox import create_app
directory, http_port, smtp_port = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
app = create_app({"database_url": f"sqlite:///{directory}/devinbox.db", "_quiet": True}, smtp_port=smtp_port)
make_server("127.0.0.1", http_port, app, threaded=True).serve_forever()
"""


class _Address:
    def __init__(self, url: str):
        self.url = url


@pytest.fixture(scope="session")
def devinbox(tmp_path_factory):
    """The dev inbox in a process of its own, as `make demo` runs it."""
    import subprocess
    import sys

    smtp_port, http_port = servers.free_port(), servers.free_port()
    directory = tmp_path_factory.mktemp("devinbox")
    process = subprocess.Popen([sys.executable, "-c", DEVINBOX_PROCESS, str(directory), str(http_port), str(smtp_port)],
                               cwd=Path(__file__).resolve().parents[1])
    try:
        servers.wait_for_port(http_port)
        servers.wait_for_port(smtp_port)
        yield DevInbox(_Address(f"http://127.0.0.1:{http_port}"), smtp_port)
    finally:
        process.terminate()
        process.wait(10)


CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]


@pytest.fixture(scope="session")
def chromium():
    """Debian's Chromium driven by Playwright (its own browser download is impossible here); one
    browser for the whole run, a fresh context per test."""
    if not os.path.exists("/usr/bin/chromium"):
        servers.missing("chromium (/usr/bin/chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        yield browser
        browser.close()
