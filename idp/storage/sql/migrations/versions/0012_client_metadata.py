"""client metadata for public and key-authenticated clients: allowed origins (CORS), jwks,
jwks_uri (private_key_jwt) and the sealed secret of client_secret_jwt clients

Revision ID: 0012_client_metadata
Revises: 0002_outbox
Create Date: 2026-12-01 23:50:00
"""
from alembic import op
import sqlalchemy as sa

revision = '0012_client_metadata'
down_revision = '0002_outbox'
branch_labels = ('client_metadata',)
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('clients', schema=None) as batch_op:
        batch_op.add_column(sa.Column('allowed_origins', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('jwks', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('jwks_uri', sa.String(length=500), nullable=True))
        batch_op.add_column(sa.Column('secret_sealed', sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('clients', schema=None) as batch_op:
        batch_op.drop_column('secret_sealed')
        batch_op.drop_column('jwks_uri')
        batch_op.drop_column('jwks')
        batch_op.drop_column('allowed_origins')
