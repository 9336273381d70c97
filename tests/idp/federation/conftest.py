"""Federation fixtures: a live IdP wired to live sandbox providers and node-oidc-provider."""

from __future__ import annotations

import os
import secrets
from contextlib import ExitStack

import pytest

from tests.idp.helpers import make_client

from .helpers import LEVELS, NAMESAKE, REDIRECT, RP_HOME, live_sandbox
from .node_op import node_oidc_provider


@pytest.fixture(scope="module")
def fed(live_idp):
    """The live IdP with three sandbox providers and node-oidc-provider as upstream providers."""
    callback = f"{live_idp.url}/federation/callback"
    logged_out = f"{live_idp.url}/federation/logged-out"
    with ExitStack() as stack:
        upstream_config, sandboxes = {}, {}
        for name in ("impots", "ameli", "laposte"):
            secret = secrets.token_urlsafe(16)
            app, url = stack.enter_context(live_sandbox(
                name, idp_issuer=live_idp.url, client_secret=secret,
                citizens=[NAMESAKE] if name == "ameli" else None))
            sandboxes[name] = app
            upstream_config[name] = {"issuer": url, "secret": secret, "sandbox": True}
        node_secret = secrets.token_urlsafe(16)
        node_url = stack.enter_context(node_oidc_provider(node_secret, callback, logged_out))
        upstream_config["nodeop"] = {"issuer": node_url, "secret": node_secret, "sandbox": False}
        providers = {}
        for name, item in upstream_config.items():
            env = f"TEST_FEDERATION_{name.upper()}_SECRET"
            os.environ[env] = item["secret"]
            providers[name] = {"issuer": item["issuer"], "client_id": "civic-idp", "client_secret_env": env,
                               "display_name": name if name != "nodeop" else "node-oidc-provider",
                               "logo": f"federation/{name}.svg" if item["sandbox"] else None,
                               "scopes": ["openid", "profile", "email", "birth"], "acr_levels": LEVELS[name],
                               "sandbox": item["sandbox"]}
        providers = {k: {kk: vv for kk, vv in v.items() if vv is not None} for k, v in providers.items()}
        live_idp.app.config["UPSTREAM_PROVIDERS"] = providers
        live_idp.app.extensions.pop("upstreams", None)
        client_id, client_secret = make_client(
            live_idp.app, [REDIRECT], post_logout_redirect_uris=[RP_HOME], first_party=True,
            name="Justice – espace personnel", scope="openid profile email birth offline_access",
            policy={"require_federation": True, "default_acr": "eidas1"})
        yield {"idp": live_idp, "sandboxes": sandboxes, "client": (client_id, client_secret)}
