"""Hypothesis on the OIDC authorization request's parameters: whatever they are, no server error,
and the browser is only ever sent to the client's registered redirect URI (or kept at the IdP)."""

from __future__ import annotations

from urllib.parse import urlencode, urlsplit

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from idp import create_app, upgrade_database

REDIRECT = "http://rp.example/callback"
values = st.one_of(st.none(), st.text(max_size=40), st.sampled_from(
    ["code", "token", "id_token", "openid", "openid profile", "S256", "plain", REDIRECT, REDIRECT + "/x",
     "https://evil.example/", "none", "login", "consent", "0", "-1", "eidas1", "eidas3"]))
PARAMS = ["response_type", "client_id", "redirect_uri", "scope", "state", "nonce", "code_challenge",
          "code_challenge_method", "prompt", "max_age", "login_hint", "acr_values", "response_mode", "request"]


@pytest.fixture(scope="module")
def idp(tmp_path_factory):
    folder = tmp_path_factory.mktemp("authz")
    url = f"sqlite:///{folder / 'idp.db'}"
    upgrade_database(url)
    app = create_app({"database_url": url, "instance_path": folder, "_quiet": True,
                      "raw": {"outbox": {"manual": True}}})
    from idp.services import clients

    with app.app_context():
        client, _secret = clients.create("Fuzzed RP", [REDIRECT], client_id="fuzzed", first_party=True)
    return app


@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.fixed_dictionaries({}, optional={name: values for name in PARAMS}), st.booleans())
def test_any_authorization_request_is_answered_safely(idp, params, registered_client):
    if registered_client:
        params = {"client_id": "fuzzed", **{k: v for k, v in params.items() if k != "client_id"}}
    query = {k: v for k, v in params.items() if v is not None}
    answer = idp.test_client().get("/authorize?" + urlencode(query))
    assert answer.status_code < 500, (query, answer.status_code)
    if answer.status_code in (301, 302, 303, 307, 308):
        location = answer.headers["Location"]
        target = urlsplit(location)
        if target.netloc:  # leaving the IdP: only to the exact registered redirect URI
            assert f"{target.scheme}://{target.netloc}{target.path}" == REDIRECT, (query, location)
            assert query.get("redirect_uri") in (None, "", REDIRECT)  # empty = omitted: the one registered URI
