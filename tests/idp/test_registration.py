"""Dynamic client registration (RFC 7591) behind an initial access token, done by openid-client's
dynamicClientRegistration (npm, tests/idp/node_rp), and the client's management of its own
registration (RFC 7592: read, replace, delete with its registration access token). A
registered client signs a person in with Authlib. Threat O9."""

from __future__ import annotations

import json
import subprocess

import pytest
import requests
from authlib.integrations.requests_client import OAuth2Session

from tests.idp.helpers import code_after_sign_in, idp_with_user, start_idp
from tests.idp.openid_client import NODE_RP, ensure_openid_client

REDIRECT = "https://rp.example/callback"
EMAIL, PASSWORD = "dcr@example.org", "Correct-Horse-1"
METADATA = {"client_name": "Partner portal", "redirect_uris": [REDIRECT], "scope": "openid email offline_access",
            "grant_types": ["authorization_code", "refresh_token"], "token_endpoint_auth_method": "client_secret_basic"}


@pytest.fixture(scope="module")
def idp(tmp_path_factory):
    ensure_openid_client()
    with idp_with_user(tmp_path_factory.mktemp('dcr'), EMAIL, PASSWORD) as server:
        yield server


def initial_token(idp, uses: int = 1) -> str:
    from idp.services import registration

    with idp.app.app_context():
        return registration.issue_initial_token(3600, uses)


def register_with_openid_client(idp, token: str, metadata: dict) -> subprocess.CompletedProcess:
    return subprocess.run(["node", "register.mjs", json.dumps({"issuer": idp.url, "initial_token": token,
                                                               "metadata": metadata})],
                          cwd=NODE_RP, capture_output=True, text=True, timeout=60)


def register(idp, token: str | None, metadata: dict) -> requests.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return requests.post(f"{idp.url}/register", json=metadata, headers=headers)


def test_openid_client_registers_and_the_client_signs_a_person_in(idp):
    token = initial_token(idp)
    done = register_with_openid_client(idp, token, METADATA)
    assert done.returncode == 0, done.stderr
    registered = json.loads(done.stdout)
    assert registered["client_id"] and registered["client_secret"] and registered["registration_access_token"]
    assert registered["registration_client_uri"] == f"{idp.url}/register/{registered['client_id']}"
    code, verifier = code_after_sign_in(idp, registered["client_id"], REDIRECT, EMAIL, PASSWORD, "openid offline_access")
    session = OAuth2Session(registered["client_id"], registered["client_secret"], redirect_uri=REDIRECT)
    assert session.fetch_token(f"{idp.url}/token", code=code, code_verifier=verifier)["id_token"]
    # the initial access token was for one registration
    again = register_with_openid_client(idp, token, METADATA)
    assert again.returncode != 0 and "invalid_token" in again.stderr


def test_registration_needs_an_initial_token_and_gets_person_scopes_only(idp):
    assert register(idp, None, METADATA).status_code == 401
    assert register(idp, "guessed", METADATA).status_code == 401
    token = initial_token(idp, uses=5)
    api_scope = register(idp, token, {**METADATA, "scope": "openid provisioning"})
    assert api_scope.status_code == 400 and api_scope.json()["error"] == "invalid_client_metadata"
    machine = register(idp, token, {**METADATA, "grant_types": ["client_credentials"]})
    assert machine.status_code == 400 and machine.json()["error"] == "invalid_client_metadata"
    bad_redirect = register(idp, token, {**METADATA, "redirect_uris": ["https://rp.example/cb#fragment"]})
    assert bad_redirect.status_code == 400 and bad_redirect.json()["error"] == "invalid_redirect_uri"
    assert register(idp, token, [1, 2]).status_code == 400  # not an object: a clear 400, never a 500


def test_a_client_reads_replaces_and_deletes_its_own_registration_and_only_its_own(idp):
    token = initial_token(idp, uses=2)
    mine, other = register(idp, token, METADATA).json(), register(idp, token, METADATA).json()
    uri = mine["registration_client_uri"]
    own = {"Authorization": f"Bearer {mine['registration_access_token']}"}
    assert requests.get(uri, headers=own).json()["redirect_uris"] == [REDIRECT]
    foreign = {"Authorization": f"Bearer {other['registration_access_token']}"}
    assert requests.get(uri, headers=foreign).status_code == 401  # another client's token: nothing
    assert requests.delete(uri, headers=foreign).status_code == 401
    replaced = requests.put(uri, headers=own, json={**METADATA, "client_id": mine["client_id"],
                                                     "redirect_uris": ["https://rp.example/new"]})
    assert replaced.status_code == 200 and replaced.json()["redirect_uris"] == ["https://rp.example/new"]
    changed_method = requests.put(uri, headers=own, json={**METADATA, "client_id": mine["client_id"],
                                                           "token_endpoint_auth_method": "none"})
    assert changed_method.status_code == 400
    assert requests.delete(uri, headers=own).status_code == 204
    assert requests.get(uri, headers=own).status_code == 401
    gone = requests.post(f"{idp.url}/token", auth=(mine["client_id"], mine["client_secret"]),
                         data={"grant_type": "refresh_token", "refresh_token": "x"})
    assert gone.json()["error"] == "invalid_client"


@pytest.mark.parametrize("key", [{"kty": "RSA", "n": "x", "e": "AQAB"},
                                 {"kty": "EC", "crv": "P-256", "x": "AA", "y": "AA"}])
def test_a_key_that_cannot_be_read_is_refused_at_registration(idp, key):
    """Outside review: such a key was stored, and every later assertion of that client was a 500."""
    answer = register(idp, initial_token(idp), {"redirect_uris": ["https://rp.example/cb"],
                                                "token_endpoint_auth_method": "private_key_jwt",
                                                "jwks": {"keys": [key]}})
    assert answer.status_code == 400 and answer.json()["error"] == "invalid_client_metadata"


@pytest.mark.parametrize(("metadata", "error"), [
    ({"redirect_uris": ["http://evil.example/cb"], "token_endpoint_auth_method": "none"}, "invalid_redirect_uri"),
    ({"redirect_uris": ["https://rp.example/cb"], "post_logout_redirect_uris": ["http://evil.example/"]},
     "invalid_redirect_uri"),
    ({"redirect_uris": [f"https://rp.example/cb{n}" for n in range(3000)]}, "invalid_redirect_uri"),
    ({"redirect_uris": ["https://rp.example/cb"], "backchannel_logout_uri": "http://169.254.169.254/latest/meta-data"},
     "invalid_client_metadata"),
])
def test_a_registrant_names_only_https_or_loopback_addresses_and_a_refusal_spends_no_use(idp, metadata, error):
    """Outside review: plain-http redirects, 3,000 redirect URIs and an internal back-channel logout
    address were registered, and each refused attempt used up one use of the initial token."""
    token = initial_token(idp)
    refused = register(idp, token, metadata)
    assert refused.status_code == 400 and refused.json()["error"] == error
    native = register(idp, token, {"redirect_uris": ["http://127.0.0.1/callback"], "token_endpoint_auth_method": "none"})
    assert native.status_code == 201, native.text  # the token's one use is still there; loopback is fine


@pytest.fixture(scope="module")
def guarded_idp(tmp_path_factory):
    """An IdP that, as in production, lets no registrant aim it at an internal address."""
    server = start_idp(f"sqlite:///{tmp_path_factory.mktemp('dcr-egress') / 'idp.db'}",
                       raw={"outbox": {"manual": True}, "dynamic_registration": {"allow_internal_hosts": False}})
    yield server
    server.stop()


@pytest.mark.parametrize("metadata", [
    {"token_endpoint_auth_method": "private_key_jwt", "jwks_uri": "https://10.0.0.7/jwks"},
    {"token_endpoint_auth_method": "private_key_jwt", "jwks_uri": "https://localhost/jwks"},
    {"backchannel_logout_uri": "https://169.254.169.254/latest/meta-data"},
    {"backchannel_logout_uri": "https://[::1]/logout"},
])
def test_a_registrant_cannot_aim_the_idp_at_an_internal_address(guarded_idp, metadata):
    """Outside review: the IdP fetched a registrant's jwks_uri and posted logout tokens to its
    back-channel URI wherever they pointed (blind SSRF into the IdP's network)."""
    token = initial_token(guarded_idp)
    refused = register(guarded_idp, token, {"redirect_uris": ["https://rp.example/cb"], **metadata})
    assert refused.status_code == 400 and refused.json()["error"] == "invalid_client_metadata", refused.text
    public = register(guarded_idp, token, {"redirect_uris": ["https://rp.example/cb"],
                                           "token_endpoint_auth_method": "private_key_jwt",
                                           "jwks_uri": "https://93.184.216.34/jwks"})
    assert public.status_code == 201, public.text  # a public address is fine (nothing fetched at registration)
