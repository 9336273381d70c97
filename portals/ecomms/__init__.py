"""ECHR eComms (seed 000), port 8001: the Court's registry and applicants exchange PDF documents.

A relying party of the IdP: everything is keyed on the token's ``sub``; the portal stores no
password and no copy of the account. Applicants are invited through the IdP's provisioning API.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Flask, g
from flask import Request as FlaskRequest

from shared.appkit import init_storage
from shared.config import load_settings
from shared.rp import init_rp
from shared.web import init_web

PACKAGE_DIR = Path(__file__).parent
MIGRATIONS = PACKAGE_DIR / "migrations"


class StreamingRequest(FlaskRequest):
    """Multipart file parts stream into hashing temporary files in the storage folder, refused
    past 50 MB while they arrive (never buffered whole in memory)."""

    def _get_file_stream(self, total_content_length, content_type, filename=None, content_length=None):
        from portals.ecomms import services, storage

        temp = storage.HashingTempFile(services.storage_folder())
        g.setdefault("upload_temps", []).append(temp)
        return temp


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    settings = load_settings("ecomms", test_config)
    if settings.production:
        from portals.ecomms import pades

        pades.check_production()  # receipts signed with the Court's certificate, never the generated one
    app = Flask(__name__, instance_path=str(settings.instance_path), static_folder="static",
                static_url_path="/static")
    app.request_class = StreamingRequest
    app.config["MAX_CONTENT_LENGTH"] = 3 * 50 * 1024 * 1024 + 1024 * 1024  # the no-JS form's three files
    init_web(app, settings, service_name="ECHR eComms",
             template_roots=[PACKAGE_DIR / "templates"], translation_roots=[PACKAGE_DIR / "translations"])
    init_storage(app, settings)
    init_rp(app, settings, client_key="ecomms")
    from portals.ecomms import registry_views  # noqa: F401  (the registry's pages, on the same blueprint)
    from portals.ecomms.models import OutboxMessage
    from portals.ecomms.services import Refused
    from portals.ecomms.views import bp, refused_response
    from shared.outbox import init_outbox

    app.register_blueprint(bp)
    init_outbox(app, OutboxMessage)
    from portals.ecomms import services
    from shared.appkit import get_db
    from shared.jobs import start_periodic

    def retention() -> None:
        with get_db().session() as session:
            services.apply_retention(session)  # documents kept one year (seed 000 FAQ)
            services.purge_closed(session)  # closed applications whose download grace is over
            services.cleanup_storage(session)  # leftovers of interrupted uploads

    start_periodic(app, "retention", 3600, retention)

    def registry_digest() -> None:
        from portals.ecomms import notices

        if notices.filing_notices() == "daily":
            with get_db().session() as session:
                notices.daily_digest(session)  # once a day from [registry] digest_hour (Strasbourg)

    start_periodic(app, "registry-digest", 900, registry_digest)

    def staged_expiry() -> None:
        services.sweep_staged()  # staged files whose hour is up, and their places in the quotas

    start_periodic(app, "staged-expiry", float(settings.section("uploads").get("staged_sweep_seconds", 60)),
                   staged_expiry)

    @app.teardown_request
    def discard_unpublished(_error=None):
        for temp in g.get("upload_temps", []):  # published files were renamed away: nothing to remove
            temp.discard()

    @app.errorhandler(413)
    def too_large(_error):
        return refused_response(Refused("too_large"), 413)

    @app.errorhandler(500)
    def server_error(_error):  # a sentence in the person's language, never a raw "Internal Server Error"
        return refused_response(Refused("server_error"), 500)

    return app


def upgrade_database(database_url: str) -> None:
    from shared.storage import upgrade_database as upgrade

    upgrade(database_url, MIGRATIONS, "alembic_version_ecomms")
