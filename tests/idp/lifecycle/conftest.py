"""A live IdP whose outbox delivers to a real dev inbox, so tests read the emails people read."""

from __future__ import annotations

import re

import pytest
import requests

from tests.idp.helpers import csrf_token, make_client, start_idp

LINK = re.compile(r"http://127\.0\.0\.1:\d+/(?:activate|recovery|email-change)/[\w-]+")
PORTAL = "http://portal.example"


@pytest.fixture(scope="module")
def idp(tmp_path_factory, devinbox):
    server = start_idp(f"sqlite:///{tmp_path_factory.mktemp('lifecycle')}/idp.db", **devinbox.settings())
    yield server
    server.stop()


@pytest.fixture(autouse=True)
def fresh_throttles(request):
    """Each test starts with no rate-limit counters (tests share 127.0.0.1)."""
    if "idp" in request.fixturenames:
        redis = request.getfixturevalue("idp").app.extensions["redis"]
        for key in redis.scan_iter("idp:throttle:*"):
            redis.delete(key)


@pytest.fixture(scope="module")
def portal_client(idp):
    return make_client(idp.app, redirect_uris=[f"{PORTAL}/callback"], post_logout_redirect_uris=[f"{PORTAL}/"],
                       grant_types=["authorization_code", "refresh_token", "client_credentials"],
                       scope="openid profile email offline_access provisioning", first_party=True,
                       client_id="ecomms")  # the client config/authorization.toml lets provision


def link_in(message: dict) -> str:
    found = LINK.findall(message["text"])
    assert found, f"no link in {message['text']!r}"
    return found[0]


def post_form(http: requests.Session, url: str, **fields) -> requests.Response:
    page = http.get(url)
    return http.post(url, data={"csrf_token": csrf_token(page.text), **fields}, allow_redirects=False)
