"""documents: when the applicant and when the registry first opened each one ("nouveau" markers)

Revision ID: 0003_ecomms_read_markers
Revises: 0002_ecomms_attachment
Create Date: 2026-12-02 00:25:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0003_ecomms_read_markers'
down_revision = '0002_ecomms_attachment'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('documents', schema=None) as batch_op:
        batch_op.add_column(sa.Column('read_by_applicant_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('read_by_registry_at', sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('documents', schema=None) as batch_op:
        batch_op.drop_column('read_by_registry_at')
        batch_op.drop_column('read_by_applicant_at')
