"""an organisation's invalidation no longer deactivates the account: accounts it deactivated come back

Revision ID: 0013_orgs_invalidation
Revises: 0011_no_pending_password
Create Date: 2026-12-01 23:50:00
"""
from alembic import op

revision = '0013_orgs_invalidation'  # at most 32 characters: alembic's version column
down_revision = '0011_no_pending_password'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # a membership is not an account: one organisation's decision never cut the person off from
    # the others and from the other portals; the memberships stay invalidated
    op.execute("UPDATE accounts SET status = 'active', deactivation_reason = NULL "
               "WHERE status = 'deactivated' AND deactivation_reason = 'invalidated_by_organisation' "
               "AND password_hash IS NOT NULL")
    op.execute("UPDATE accounts SET status = 'pending', deactivation_reason = NULL "
               "WHERE status = 'deactivated' AND deactivation_reason = 'invalidated_by_organisation'")


def downgrade() -> None:
    """Nothing to undo: the deactivations were the error."""
