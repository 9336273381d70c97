"""applications: the applicant's language, attachment and detachment times, closing's purge time

Revision ID: 0002_ecomms_attachment
Revises: 0001_ecomms
Create Date: 2026-12-01 23:55:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0002_ecomms_attachment'
down_revision = '0001_ecomms'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('applications', schema=None) as batch_op:
        batch_op.add_column(sa.Column('applicant_locale', sa.String(length=8), nullable=False, server_default='fr'))
        batch_op.add_column(sa.Column('attached_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('detached_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('purge_at', sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('applications', schema=None) as batch_op:
        batch_op.drop_column('purge_at')
        batch_op.drop_column('detached_at')
        batch_op.drop_column('attached_at')
        batch_op.drop_column('applicant_locale')
