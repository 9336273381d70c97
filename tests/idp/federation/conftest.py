"""Federation fixtures: a live IdP wired to live sandbox providers and node-oidc-provider.

Upstream providers: the three sandboxes and ``nodeop`` (node-oidc-provider sending FranceConnect's
claims), all trusted for the pivot identity; ``nodestd``, a second node-oidc-provider that is an
ordinary OP (standard claims only, no acr, back-channel logout to the IdP, a client secret full of
reserved characters); and ``nodeop_untrusted``, the first node-oidc-provider declared as a standard
provider (the same FranceConnect-looking claims, from a provider nobody vouches for).

Clients: ``client`` (the justice space: federation, pivot required, eidas1) and ``standard_client``
(a portal such as eComms or e-services: any provider, back-channel logout to ``fed["logouts"]``).
"""

from __future__ import annotations

import os
import secrets
from contextlib import ExitStack

import pytest
from flask import Flask, request

from tests.idp.helpers import make_client
from tests.servers import LiveServer, free_port

from .helpers import LEVELS, NAMESAKE, REDIRECT, RESERVED_SECRET, RP_HOME, live_sandbox
from .node_op import node_oidc_provider


@pytest.fixture(scope="module")
def logout_receiver():
    """A relying party's back-channel logout endpoint: the logout tokens it received."""
    received: list[str] = []
    app = Flask("rp")

    @app.post("/bcl")
    def bcl():
        received.append(request.form["logout_token"])
        return "", 200

    server = LiveServer(app, free_port()).start()
    yield f"{server.url}/bcl", received
    server.stop()


@pytest.fixture(scope="module")
def fed(live_idp, logout_receiver):
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
        std_url = stack.enter_context(node_oidc_provider(
            RESERVED_SECRET, callback, logged_out, STANDARD_ONLY="1", NO_ACR="1",
            BACKCHANNEL_LOGOUT_URI=f"{live_idp.url}/federation/nodestd/backchannel-logout"))
        providers = {}
        for name, item in upstream_config.items():
            env = f"TEST_FEDERATION_{name.upper()}_SECRET"
            os.environ[env] = item["secret"]
            providers[name] = {"issuer": item["issuer"], "client_id": "civic-idp", "client_secret_env": env,
                               "display_name": name if name != "nodeop" else "node-oidc-provider",
                               "logo": f"federation/{name}.svg" if item["sandbox"] else None,
                               "scopes": ["openid", "profile", "email", "birth"], "acr_levels": LEVELS[name],
                               "sandbox": item["sandbox"], "identity": "pivot"}
        os.environ["TEST_FEDERATION_NODESTD_SECRET"] = RESERVED_SECRET
        providers["nodestd"] = {"issuer": std_url, "client_id": "civic-idp",
                                "client_secret_env": "TEST_FEDERATION_NODESTD_SECRET",
                                "display_name": "standard-op", "scopes": ["openid", "profile", "email"],
                                "acr_levels": ["eidas1"], "default_acr": "eidas1"}  # identity: standard
        providers["nodeop_untrusted"] = {**providers["nodeop"], "display_name": "untrusted-op"}
        del providers["nodeop_untrusted"]["identity"]
        providers = {k: {kk: vv for kk, vv in v.items() if vv is not None} for k, v in providers.items()}
        live_idp.app.config["UPSTREAM_PROVIDERS"] = providers
        live_idp.app.extensions.pop("upstreams", None)
        client_id, client_secret = make_client(
            live_idp.app, [REDIRECT], post_logout_redirect_uris=[RP_HOME], first_party=True,
            name="Justice – espace personnel", scope="openid profile email birth offline_access",
            policy={"require_federation": True, "require_pivot": True, "default_acr": "eidas1"})
        standard_client = make_client(
            live_idp.app, [REDIRECT], post_logout_redirect_uris=[RP_HOME], first_party=True, name="eComms",
            scope="openid profile email birth offline_access", backchannel_logout_uri=logout_receiver[0])
        yield {"idp": live_idp, "sandboxes": sandboxes, "client": (client_id, client_secret),
               "standard_client": standard_client, "logouts": logout_receiver[1], "nodestd": std_url,
               "nodeop": node_url, "issuers": {name: table["issuer"] for name, table in providers.items()}}
