"""pending accounts hold no password (account pre-hijacking: the password is set on activation)

Revision ID: 0011_no_pending_password
Revises: 0005_lifecycle
Create Date: 2026-12-01 21:00:00
"""
from alembic import op

revision = '0011_no_pending_password'
down_revision = '0005_lifecycle'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # a password typed before the address was proven may be an attacker's: the owner sets hers
    # on the activation page, which now always asks for one
    op.execute("UPDATE accounts SET password_hash = NULL WHERE status = 'pending'")


def downgrade() -> None:
    """Nothing to restore: the removed hashes were never the proven owner's."""
