"""A native app (RFC 8252) as a public client, driven by Authlib's client with
token_endpoint_auth_method "none" and PKCE: the loopback redirect on whatever port the app got,
the code exchange and the refresh without any secret. The example of docs/integration/native.md."""

from __future__ import annotations

import pytest
import requests
from authlib.common.security import generate_token
from authlib.integrations.requests_client import OAuth2Session

from tests.idp.helpers import make_client, make_user, sign_in_with_requests, start_idp
from tests.servers import free_port

EMAIL, PASSWORD = "native@example.org", "Correct-Horse-1"
REGISTERED = "http://127.0.0.1/callback"  # no port: the app listens where it can


@pytest.fixture(scope="module")
def idp(tmp_path_factory):
    server = start_idp(f"sqlite:///{tmp_path_factory.mktemp('native') / 'idp.db'}", raw={"outbox": {"manual": True}})
    make_user(server.app, EMAIL, PASSWORD)
    yield server
    server.stop()


def test_a_native_app_signs_in_on_its_loopback_port_and_refreshes_without_a_secret(idp):
    client_id, secret = make_client(idp.app, [REGISTERED], scope="openid profile offline_access",
                                    token_endpoint_auth_method="none", first_party=True)
    assert secret is None
    redirect_uri = f"http://127.0.0.1:{free_port()}/callback"
    session = OAuth2Session(client_id, token_endpoint_auth_method="none", redirect_uri=redirect_uri,
                            scope="openid profile offline_access", code_challenge_method="S256")
    verifier = generate_token(48)
    url, state = session.create_authorization_url(f"{idp.url}/authorize", code_verifier=verifier)
    callback = sign_in_with_requests(requests.Session(), url, EMAIL, PASSWORD, redirect_uri)
    assert callback["state"] == [state]
    token = session.fetch_token(f"{idp.url}/token", code=callback["code"][0], code_verifier=verifier)
    assert token["id_token"] and token["refresh_token"]
    refreshed = session.refresh_token(f"{idp.url}/token")
    assert refreshed["access_token"] != token["access_token"]


def test_only_the_port_of_a_loopback_redirect_may_vary(idp):
    public_id, _ = make_client(idp.app, [REGISTERED], token_endpoint_auth_method="none")
    confidential_id, _ = make_client(idp.app, [REGISTERED])
    port = free_port()

    def accepted(client_id: str, redirect_uri: str) -> bool:
        answer = requests.get(f"{idp.url}/authorize", allow_redirects=False, params={
            "response_type": "code", "client_id": client_id, "redirect_uri": redirect_uri, "scope": "openid",
            "state": "s", "code_challenge": "x" * 43, "code_challenge_method": "S256"})
        return answer.status_code == 302 and "/interaction/" in answer.headers["Location"]  # on to sign in

    assert accepted(public_id, f"http://127.0.0.1:{port}/callback")
    assert not accepted(public_id, f"http://127.0.0.1:{port}/other")
    assert not accepted(public_id, f"http://localhost:{port}/callback")
    assert not accepted(public_id, f"http://evil.example:{port}/callback")
    assert not accepted(confidential_id, f"http://127.0.0.1:{port}/callback")  # exact matching for the others
