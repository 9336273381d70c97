"""Dev tool: autogenerate an Alembic revision. Usage: python scripts/new_migration.py <migrations dir> <version table> <message> <rev id> [branch label]"""
import sys
import tempfile
from alembic import command
from alembic.config import Config
cfg = Config()
cfg.set_main_option("script_location", sys.argv[1])
cfg.set_main_option("sqlalchemy.url", f"sqlite:///{tempfile.mkdtemp()}/gen.db")
cfg.attributes["version_table"] = sys.argv[2]
command.upgrade(cfg, "heads")
# New revisions branch from the outbox revision (each area owns its branch; `upgrade heads` applies all).
base = {"idp": "0002_outbox"}.get(sys.argv[2].rsplit("_", 1)[-1])
extra = {"head": base, "splice": True} if base else {}
command.revision(cfg, message=sys.argv[3], autogenerate=True, rev_id=sys.argv[4],
                 **({"branch_label": sys.argv[5]} if len(sys.argv) > 5 else {}), **extra)
