"""The justice personal space (seed 001), port 8002: citizens signed in through FranceConnect-style
federation follow the cases courts feed through the court API. Keyed on the token's ``sub``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Flask

from shared.appkit import init_storage
from shared.config import load_settings
from shared.rp import init_rp
from shared.web import init_web

PACKAGE_DIR = Path(__file__).parent
MIGRATIONS = PACKAGE_DIR / "migrations"


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    settings = load_settings("justice", test_config)
    app = Flask(__name__, instance_path=str(settings.instance_path), static_folder="static",
                static_url_path="/static")
    init_web(app, settings, service_name="Justice – espace personnel",
             template_roots=[PACKAGE_DIR / "templates"], translation_roots=[PACKAGE_DIR / "translations"])
    init_storage(app, settings)
    init_rp(app, settings, client_key="justice")
    from portals.justice.api import bp as api
    from portals.justice.models import OutboxMessage
    from portals.justice.views import bp
    from shared.outbox import init_outbox

    app.register_blueprint(bp)
    app.register_blueprint(api)
    init_outbox(app, OutboxMessage)
    from portals.justice import alerts, services
    from shared.appkit import get_db
    from shared.jobs import start_periodic

    def reminders() -> None:
        with get_db().session() as session:
            alerts.send_reminders(session)  # SMS three days before a hearing, once

    def visibility() -> None:
        with get_db().session() as session:
            services.purge_invisible(session)  # finished more than a year ago

    def digests() -> None:
        with get_db().session() as session:
            alerts.send_digests(session)  # the daily digest of update alerts, for those who chose it

    start_periodic(app, "reminders", 600, reminders)
    start_periodic(app, "digests", 86400, digests)
    start_periodic(app, "visibility", 3600, visibility)
    from portals.justice.models import SupportRequest
    from shared.support_handover import start_handover

    start_handover(app, SupportRequest, services.support_payload)  # the IdP's support desk reads and answers them
    return app


def upgrade_database(database_url: str) -> None:
    from shared.storage import upgrade_database as upgrade

    upgrade(database_url, MIGRATIONS, "alembic_version_justice")
