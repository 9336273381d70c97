"""The e-services portal for organisations (seed 002), port 8003: a relying party of the IdP.

It keeps only its own data (support requests, the démarches made through each e-service),
keyed on the token's ``sub`` and organisation. Who may use what comes from the IdP, checked on
every e-service request (services.PermissionClient).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from flask import Flask

from shared.appkit import init_storage
from shared.config import load_settings
from shared.rp import init_rp
from shared.web import init_web

PACKAGE_DIR = Path(__file__).parent
MIGRATIONS = PACKAGE_DIR / "migrations"
DEFAULT_SUPPORT_ADDRESS = "assistance-eservices@example.org"  # development: the dev inbox shows it


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    settings = load_settings("eservices", test_config)
    app = Flask(__name__, instance_path=str(settings.instance_path), static_folder="static",
                static_url_path="/static")
    init_web(app, settings, service_name="Portail e-services",
             template_roots=[PACKAGE_DIR / "templates"], translation_roots=[PACKAGE_DIR / "translations"])
    init_storage(app, settings)
    init_rp(app, settings, client_key="eservices")
    from portals.eservices.services import PermissionClient
    from portals.eservices.views import bp

    app.extensions["eservices_permissions"] = PermissionClient(app)
    # where support requests are sent (the support desk's mailbox); every request is also kept in
    # the portal's database and listed by ``flask --app portals.eservices support list``
    app.config["SUPPORT_ADDRESS"] = os.environ.get("ESERVICES_SUPPORT_ADDRESS", DEFAULT_SUPPORT_ADDRESS)
    app.register_blueprint(bp)
    from portals.eservices.support_cli import support

    app.cli.add_command(support)
    from portals.eservices.models import OutboxMessage
    from shared.outbox import init_outbox

    init_outbox(app, OutboxMessage)
    from portals.eservices.models import SupportRequest
    from portals.eservices.services import support_payload
    from shared.support_handover import start_handover

    # the IdP's support desk reads, answers and closes them; a request closed there is closed here too
    start_handover(app, SupportRequest, support_payload, follow_status=True)
    return app


def upgrade_database(database_url: str) -> None:
    from shared.storage import upgrade_database as upgrade

    upgrade(database_url, MIGRATIONS, "alembic_version_eservices")
