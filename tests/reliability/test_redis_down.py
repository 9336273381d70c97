"""Redis stopped mid-traffic: the IdP answers 503 with a clear page (JSON for the token endpoint),
recovers by itself when Redis returns, and loses no account and no refresh token (they are in SQL)."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import time

import pytest
import requests

from tests.idp.helpers import (
    exchange_code_for_tests,
    make_client,
    make_user,
    pkce,
    sign_in_with_requests,
    start_idp,
)
from tests.servers import free_port, missing, wait_for_port

REDIRECT = "http://rp.example/callback"


class RedisProcess:
    def __init__(self):
        self.binary = shutil.which("redis-server") or missing("redis-server")
        self.port = free_port()
        self.workdir = tempfile.mkdtemp(prefix="redis-fault-")
        self.process = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen([self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
                                         "--appendonly", "no", "--dir", self.workdir],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for_port(self.port)

    def stop(self) -> None:
        self.process.kill()
        self.process.wait(10)


@pytest.fixture
def redis_process():
    server = RedisProcess()
    server.start()
    yield server
    if server.process.poll() is None:
        server.stop()
    shutil.rmtree(server.workdir, ignore_errors=True)


def test_redis_down_gives_a_clear_503_and_the_idp_recovers(tmp_path, redis_process):
    idp = start_idp(f"sqlite:///{tmp_path / 'idp.db'}", redis_process.url)
    try:
        make_user(idp.app, "anne@example.org", "Bonne-Passe-2026")
        client_id, secret = make_client(idp.app, [REDIRECT], first_party=True)
        verifier, challenge = pkce()
        url = (f"{idp.url}/authorize?response_type=code&client_id={client_id}&redirect_uri={REDIRECT}"
               f"&scope=openid+offline_access&state=s&code_challenge={challenge}&code_challenge_method=S256"
               "&prompt=consent")
        http = requests.Session()
        code = sign_in_with_requests(http, url, "anne@example.org", "Bonne-Passe-2026", "http://rp.example/")["code"][0]
        tokens = exchange_code_for_tests(idp.url, client_id, secret, code, verifier, REDIRECT)
        assert "refresh_token" in tokens

        redis_process.stop()
        page = requests.get(f"{idp.url}/signin?next=/account", headers={"Accept-Language": "fr"})
        assert page.status_code == 503 and "momentanément indisponible" in page.text
        assert page.headers["Retry-After"]
        token = requests.post(f"{idp.url}/token", data={"grant_type": "refresh_token",
                                                         "refresh_token": tokens["refresh_token"]},
                              auth=(client_id, secret))
        assert token.status_code == 503 and token.json()["error"] == "temporarily_unavailable"

        redis_process.start()  # back, empty: sessions are gone, accounts and tokens are not
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if requests.get(f"{idp.url}/signin?next=/account").status_code == 200:
                break
            time.sleep(0.2)
        else:
            raise AssertionError("the IdP did not recover when Redis returned")
        refreshed = requests.post(f"{idp.url}/token", data={"grant_type": "refresh_token",
                                                             "refresh_token": tokens["refresh_token"]},
                                  auth=(client_id, secret))
        assert refreshed.status_code == 200, refreshed.text
        code = sign_in_with_requests(requests.Session(), url, "anne@example.org", "Bonne-Passe-2026",
                                     "http://rp.example/")["code"][0]
        assert code
    finally:
        idp.stop()
