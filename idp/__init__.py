"""The identity and access provider: a standalone OpenID Connect provider (issuer :8000)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Flask

from shared.appkit import init_storage
from shared.config import load_settings
from shared.web import init_web

PACKAGE_DIR = Path(__file__).parent
MIGRATIONS = PACKAGE_DIR / "storage" / "sql" / "migrations"


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Application factory: config → extensions → blueprints; nothing else."""
    settings = load_settings("idp", test_config)
    app = Flask(__name__, instance_path=str(settings.instance_path))
    init_web(app, settings, service_name="ECHR Services",
             template_roots=[PACKAGE_DIR / "templates"], translation_roots=[PACKAGE_DIR / "translations"])
    init_storage(app, settings)
    from idp.web import register_blueprints

    register_blueprints(app)
    return app


def upgrade_database(database_url: str) -> None:
    from shared.storage import upgrade_database as upgrade

    upgrade(database_url, MIGRATIONS, "alembic_version_idp")
