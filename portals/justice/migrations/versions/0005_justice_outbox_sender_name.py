"""outbox: the From display name of each email (an IdP email is sent in the name of the portal the flow started from)

Revision ID: 0005_justice_outbox_sender_name
Revises: 0004_topology_outbox_request_id
Create Date: 2026-12-02 06:20:00
"""
from alembic import op
import sqlalchemy as sa

revision = '0005_justice_outbox_sender_name'
down_revision = '0004_topology_outbox_request_id'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('outbox_messages', schema=None) as batch_op:
        batch_op.add_column(sa.Column('sender_name', sa.String(length=120), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('outbox_messages', schema=None) as batch_op:
        batch_op.drop_column('sender_name')
