from idp.storage.sql import all_models  # noqa: F401  (registers every table on Base.metadata)
from idp.storage.sql.models import Base
from shared.alembic_env import run_migrations

run_migrations(Base.metadata, "alembic_version_idp")
