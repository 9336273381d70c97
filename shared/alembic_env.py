"""The body of every app's Alembic ``env.py``: online migrations against the configured URL."""

from __future__ import annotations

from alembic import context
from sqlalchemy import MetaData

from shared.storage import make_engine


def run_migrations(metadata: MetaData, default_version_table: str) -> None:
    config = context.config
    url = config.get_main_option("sqlalchemy.url")
    version_table = config.attributes.get("version_table", default_version_table)
    engine = make_engine(url)
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=metadata,
            version_table=version_table,
            render_as_batch=connection.dialect.name == "sqlite",
        )
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()
