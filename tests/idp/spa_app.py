"""A single-page application on oidc-client-ts (npm, pinned in tests/idp/spa/package.json),
served from its own origin: the public client the browser tests sign in with.

``npm ci`` runs when node_modules is missing; without npm the tests skip locally and FAIL under
CI, like every other real tool the tests need.
"""

from __future__ import annotations

import json
from pathlib import Path

from flask import Flask, Response, send_from_directory

from tests.servers import LiveServer, free_port, npm_install

SPA_DIR = Path(__file__).parent / "spa"
LIBRARY = SPA_DIR / "node_modules" / "oidc-client-ts" / "dist" / "browser"


def ensure_library() -> Path:
    if not (LIBRARY / "oidc-client-ts.min.js").exists():
        npm_install(SPA_DIR, "oidc-client-ts")
    return LIBRARY


def start_spa(authority: str, client_id: str, port: int, dpop: bool = False) -> LiveServer:
    """The SPA on 127.0.0.1:<port> (another origin than the IdP's); ``dpop``: oidc-client-ts
    binds the tokens to a key of its own (RFC 9449)."""
    library = ensure_library()
    app = Flask("spa", static_folder=None)

    @app.get("/")
    @app.get("/index.html")
    @app.get("/callback.html")  # the same page: app.js completes the sign-in when it is the callback
    def index():
        return send_from_directory(SPA_DIR, "index.html")

    @app.get("/app.js")
    def script():
        return send_from_directory(SPA_DIR, "app.js")

    @app.get("/oidc-client-ts.min.js")
    def oidc_client():
        return send_from_directory(library, "oidc-client-ts.min.js")

    @app.get("/config.js")
    def config():
        body = f"const CONFIG = {json.dumps({'authority': authority, 'client_id': client_id, 'dpop': dpop})};"
        return Response(body, mimetype="text/javascript")

    return LiveServer(app, port).start()


def blank_origin() -> LiveServer:
    """Another origin no client registered: a page an attacker's site could be."""
    app = Flask("elsewhere")
    app.add_url_rule("/", "index", lambda: "<!doctype html><title>elsewhere</title><p>elsewhere</p>")
    return LiveServer(app, free_port()).start()
