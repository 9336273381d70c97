"""support requests: the requester's language, and when the request was handed to the IdP's support desk

Revision ID: 0006_console_support_handover
Revises: 0005_eservices_outbox_sender
Create Date: 2026-12-02 06:55:00
"""
from alembic import op
import sqlalchemy as sa

revision = '0006_console_support_handover'
down_revision = '0005_eservices_outbox_sender'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('support_requests', schema=None) as batch_op:
        batch_op.add_column(sa.Column('locale', sa.String(length=8), nullable=True))
        batch_op.add_column(sa.Column('handed_over_at', sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('support_requests', schema=None) as batch_op:
        batch_op.drop_column('handed_over_at')
        batch_op.drop_column('locale')
