"""an operator can disable a client (the operators' console): the moment it was disabled

Revision ID: 0016_console_client_disabled
Revises: 0014_client_registration_token
Create Date: 2026-12-02 06:10:00
"""
from alembic import op
import sqlalchemy as sa

revision = '0016_console_client_disabled'
down_revision = '0014_client_registration_token'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('clients', schema=None) as batch_op:
        batch_op.add_column(sa.Column('disabled_at', sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('clients', schema=None) as batch_op:
        batch_op.drop_column('disabled_at')
