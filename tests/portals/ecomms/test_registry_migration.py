"""Migration 0005 on a database with data, SQLite and PostgreSQL: each application's applicant becomes
its first party (address, subject, language, detachment kept), no document is lost, old filings
count as told to the registry; the downgrade gives the columns back."""

from __future__ import annotations

import uuid

from alembic import command
from alembic.config import Config
from sqlalchemy import create_engine, text

from portals.ecomms import MIGRATIONS
from shared.storage import upgrade_database
from tests.servers import create_database

TABLE = "alembic_version_ecomms"


def migrate(url: str) -> None:
    upgrade_database(url, MIGRATIONS, TABLE, "0004_ecomms_deposits")
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(text(
            "INSERT INTO applications (id, number, title, status, applicant_email, applicant_sub, created_by, "
            "created_at, applicant_locale, attached_at, detached_at) VALUES "
            "('a1', '1/26', 'T', 'open', 'x@example.org', 'sub-x', 'reg', '2026-12-01 10:00:00', 'en', "
            "'2026-12-01 10:00:00', NULL), "
            "('a2', '2/26', 'U', 'open', 'y@example.org', NULL, 'reg', '2026-12-01 10:00:00', 'fr', NULL, "
            "'2026-12-01 11:00:00')"))
        connection.execute(text(
            "INSERT INTO documents (id, application_id, direction, doc_type, stored_name, size, sha256, storage_key, "
            "sender_sub, created_at) VALUES ('d1', 'a1', 'to_court', 'letter', '1-26_a.pdf', 1, '0', 'k1', 'sub-x', "
            "'2026-12-01 12:00:00'), ('d2', 'a2', 'from_court', 'letter', '2-26_b.pdf', 1, '1', 'k2', 'reg', "
            "'2026-12-01 12:00:00')"))
    upgrade_database(url, MIGRATIONS, TABLE)
    with engine.begin() as connection:
        parties = connection.execute(text("SELECT application_id, role, email, sub, locale, detached_reason "
                                          "FROM parties ORDER BY application_id")).all()
        documents = connection.execute(text("SELECT id, registry_notified_at IS NOT NULL FROM documents "
                                            "ORDER BY id")).all()
    assert [tuple(p) for p in parties] == [("a1", "applicant", "x@example.org", "sub-x", "en", None),
                                           ("a2", "applicant", "y@example.org", None, "fr", "address_change")]
    assert [tuple(d) for d in documents] == [("d1", True), ("d2", False)], "no document lost"
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    config.attributes["version_table"] = TABLE
    command.downgrade(config, "0004_ecomms_deposits")
    with engine.begin() as connection:
        back = connection.execute(text("SELECT id, applicant_email, applicant_sub, applicant_locale FROM applications "
                                       "ORDER BY id")).all()
    assert [tuple(a) for a in back] == [("a1", "x@example.org", "sub-x", "en"), ("a2", "y@example.org", None, "fr")]
    engine.dispose()


def test_the_migration_keeps_every_applicant_and_document_on_sqlite(tmp_path):
    migrate(f"sqlite:///{tmp_path / 'ecomms.db'}")


def test_the_migration_keeps_every_applicant_and_document_on_postgresql(postgres_server_url):
    migrate(create_database(postgres_server_url, f"ecomms_{uuid.uuid4().hex[:8]}"))
