"""The identity and access provider: a standalone OpenID Connect provider (issuer :8000)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from flask import Blueprint, Flask, request

from shared.appkit import init_storage
from shared.config import load_settings
from shared.cookies import host_only
from shared.web import init_web

PACKAGE_DIR = Path(__file__).parent
MIGRATIONS = PACKAGE_DIR / "storage" / "sql" / "migrations"


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Application factory: config → extensions → blueprints; nothing else."""
    settings = load_settings("idp", test_config)
    if not settings.production:
        # Authlib refuses plain-http URLs unless told; http is only for localhost development.
        os.environ.setdefault("AUTHLIB_INSECURE_TRANSPORT", "1")
    app = Flask(__name__, instance_path=str(settings.instance_path), static_folder=None)
    from idp.services import branding

    init_web(app, settings, service_name=branding.neutral().name,
             template_roots=[PACKAGE_DIR / "templates"], translation_roots=[PACKAGE_DIR / "translations"])
    init_storage(app, settings)
    from idp.oidc.logout import start_worker
    from idp.oidc.server import init_server
    from idp.services.keys import KeyRing
    from idp.web import register_blueprints

    app.extensions["keyring"] = KeyRing(settings.keys_path / "idp")
    from shared.health import add_readiness_check

    add_readiness_check(app, "signing_keys", app.extensions["keyring"].readable)
    init_server(app)
    from idp.services import browser

    browser.init_app(app)
    register_blueprints(app)
    app.register_blueprint(Blueprint("idp_static", __name__, static_folder="static", static_url_path="/static"))

    from idp.services import devices, sessions

    app.config["SINGLE_COOKIES"] += [host_only(name, settings.production)
                                     for name in (sessions.COOKIE, browser.COOKIE, devices.COOKIE)]

    @app.context_processor
    def idp_context():
        return {"idp_signed_in": bool(request.cookies.get(sessions.cookie_name()))}

    from idp.storage.sql.outbox import OutboxMessage
    from shared.outbox import init_outbox

    init_outbox(app, OutboxMessage)
    from idp.services.lifecycle import start_scheduler

    start_scheduler(app)
    start_worker(app)
    from idp.oidc import account_events
    from idp.services.lifecycle import EMAIL_CHANGED_HOOKS
    from shared.jobs import start_periodic

    if account_events.identifier_changed not in EMAIL_CHANGED_HOOKS:
        EMAIL_CHANGED_HOOKS.append(account_events.identifier_changed)
    start_periodic(app, "account-events", 5, account_events.drain_once)
    return app


def upgrade_database(database_url: str) -> None:
    from shared.storage import upgrade_database as upgrade

    upgrade(database_url, MIGRATIONS, "alembic_version_idp")
