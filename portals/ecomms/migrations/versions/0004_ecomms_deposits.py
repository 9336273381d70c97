"""documents: the deposit (one sending) each belongs to and when its upload started (the signed PDF receipt)

Revision ID: 0004_ecomms_deposits
Revises: 0003_ecomms_read_markers
Create Date: 2026-12-02 03:30:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0004_ecomms_deposits'
down_revision = '0003_ecomms_read_markers'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('documents', schema=None) as batch_op:
        batch_op.add_column(sa.Column('deposit_id', sa.String(length=36), nullable=True))
        batch_op.add_column(sa.Column('upload_started_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index('ix_documents_deposit', ['deposit_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('documents', schema=None) as batch_op:
        batch_op.drop_index('ix_documents_deposit')
        batch_op.drop_column('upload_started_at')
        batch_op.drop_column('deposit_id')
