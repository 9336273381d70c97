"""refresh tokens of public clients bound to a DPoP key (RFC 9449 §5): its thumbprint

Revision ID: 0013_dpop_bound_refresh
Revises: 0012_client_metadata
Create Date: 2026-12-02 00:20:00
"""
from alembic import op
import sqlalchemy as sa

revision = '0013_dpop_bound_refresh'
down_revision = '0012_client_metadata'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('refresh_tokens', schema=None) as batch_op:
        batch_op.add_column(sa.Column('dpop_jkt', sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('refresh_tokens', schema=None) as batch_op:
        batch_op.drop_column('dpop_jkt')
