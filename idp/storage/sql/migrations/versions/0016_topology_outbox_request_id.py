"""outbox: the id of the request that queued each message (its X-Request-ID), logged with the delivery

Revision ID: 0016_topology_outbox_request_id
Revises: 0015_orgs_rna
Create Date: 2026-12-02 06:10:00
"""
from alembic import op
import sqlalchemy as sa

revision = '0016_topology_outbox_request_id'
down_revision = '0015_orgs_rna'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('outbox_messages', schema=None) as batch_op:
        batch_op.add_column(sa.Column('request_id', sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('outbox_messages', schema=None) as batch_op:
        batch_op.drop_column('request_id')
