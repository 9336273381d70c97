"""dynamically registered clients (RFC 7591/7592): the digest of their registration access token

Revision ID: 0014_client_registration_token
Revises: 0013_dpop_bound_refresh
Create Date: 2026-12-02 00:35:00
"""
from alembic import op
import sqlalchemy as sa

revision = '0014_client_registration_token'
down_revision = '0013_dpop_bound_refresh'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('clients', schema=None) as batch_op:
        batch_op.add_column(sa.Column('registration_token_hash', sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('clients', schema=None) as batch_op:
        batch_op.drop_column('registration_token_hash')
