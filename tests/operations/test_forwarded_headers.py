"""Every app believes X-Forwarded-* only from TRUSTED_PROXIES (shared/proxy.py): the same forged
headers make a request https from nginx's address and leave it plain http from anyone else's.
The whole topology (nginx, gunicorn, production mode) proves it too: test_topology.py (slow)."""

from __future__ import annotations

import importlib

import pytest

APPS = ["idp", "portals.ecomms", "portals.justice", "portals.eservices"]
FORGED = {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "evil.example", "X-Forwarded-For": "203.0.113.7"}


@pytest.fixture(params=APPS)
def app(request, tmp_path, monkeypatch):
    monkeypatch.setenv("TRUSTED_PROXIES", "127.0.0.1, 10.0.8.0/29")
    package = importlib.import_module(request.param)
    database = f"sqlite:///{tmp_path / 'app.db'}"
    package.upgrade_database(database)
    (tmp_path / "instance").mkdir()
    return package.create_app({"database_url": database, "_quiet": True, "instance_path": tmp_path / "instance"})


def language_cookie(app, peer: str) -> str:
    """The language switch sets its cookie Secure only on a request the app takes for https."""
    answer = app.test_client().get("/lang/en?next=/", headers=FORGED, environ_base={"REMOTE_ADDR": peer})
    return answer.headers["Set-Cookie"]


@pytest.mark.parametrize("peer", ["127.0.0.1", "10.0.8.5"])
def test_the_proxys_forwarded_headers_are_believed(app, peer):
    assert "Secure" in language_cookie(app, peer)


@pytest.mark.parametrize("peer", ["127.0.0.9", "10.0.8.9", "203.0.113.7", "::1"])
def test_anyone_elses_are_not(app, peer):
    assert "Secure" not in language_cookie(app, peer)
