"""A disabled client's browser origin passes no CORS check (console review, item 4): the preflight,
which names no client, and the discovery and JWKS answers stop naming it at once, and it comes back
when the client is enabled again."""

from __future__ import annotations

import pytest
import requests

from idp.services import operations_clients
from tests.idp.helpers import make_client, start_idp

ORIGIN = "https://spa.disabled.example"


@pytest.fixture(scope="module")
def idp(tmp_path_factory):
    server = start_idp(f"sqlite:///{tmp_path_factory.mktemp('cors-disabled') / 'idp.db'}",
                       raw={"outbox": {"manual": True}})
    yield server
    server.stop()


def allowed(idp, method: str, path: str) -> bool:
    answer = requests.request(method, idp.url + path, timeout=10, headers={
        "Origin": ORIGIN, "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "content-type"})
    return answer.headers.get("Access-Control-Allow-Origin") == ORIGIN


def test_a_disabled_clients_origin_is_gone_at_once(idp):
    client_id, _secret = make_client(idp.app, [f"{ORIGIN}/callback"], token_endpoint_auth_method="none",
                                     allowed_origins=[ORIGIN], scope="openid")
    checks = [("OPTIONS", "/token"), ("OPTIONS", "/userinfo"), ("GET", "/jwks"),
              ("GET", "/.well-known/openid-configuration")]
    assert all(allowed(idp, *check) for check in checks)
    with idp.app.app_context():
        operations_clients.set_disabled("operator-id", client_id, True)
    assert not any(allowed(idp, *check) for check in checks)  # no waiting for the cache
    with idp.app.app_context():
        operations_clients.set_disabled("operator-id", client_id, False)
    assert all(allowed(idp, *check) for check in checks)
