"""an operator can suspend an organisation (the operators' console): when, and why

Revision ID: 0018_console_org_suspended
Revises: 0017_outbox_sender_name
Create Date: 2026-12-02 06:35:00
"""
from alembic import op
import sqlalchemy as sa

revision = '0018_console_org_suspended'
down_revision = '0017_outbox_sender_name'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('organisations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('suspended_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('suspension_reason', sa.String(length=300), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('organisations', schema=None) as batch_op:
        batch_op.drop_column('suspension_reason')
        batch_op.drop_column('suspended_at')
