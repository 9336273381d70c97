"""Thin blueprints, one per area. Each area adds its blueprint to ``BLUEPRINTS``."""

from __future__ import annotations

from importlib import import_module

from flask import Flask

from idp.web.limits import init_limits

# "module:attribute" of every blueprint; an area appends one line when it lands.
BLUEPRINTS: list[str] = [
    "idp.web.oidc:bp",
    "idp.web.login:bp",
    "idp.web.federation:bp",
    "idp.web.organisations:bp",
    "idp.api.management:bp",
    "idp.web.account:bp",
    "idp.api.provisioning:bp",
    "idp.web.branding:bp",
    "idp.web.passkeys:bp",
    "idp.web.mailbox_check:bp",
    "idp.web.factors:bp",
    "idp.web.account_activity:bp",
    "idp.web.operations:bp",
    "idp.api.support:bp",
]


def register_blueprints(app: Flask) -> None:
    for path in BLUEPRINTS:
        module_name, attribute = path.split(":")
        app.register_blueprint(getattr(import_module(module_name), attribute))
    init_limits(app)  # per-route limits, applied to the registered views
