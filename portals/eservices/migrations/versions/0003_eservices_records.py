"""demarches: a reference and the fields of their e-service's form

Revision ID: 0003_eservices_records
Revises: 0002_outbox
Create Date: 2026-12-02 03:40:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0003_eservices_records'
down_revision = '0002_outbox'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('demarches', schema=None) as batch_op:
        batch_op.add_column(sa.Column('reference', sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column('data', sa.JSON(), nullable=True))
        batch_op.create_unique_constraint('uq_demarches_reference', ['reference'])


def downgrade() -> None:
    with op.batch_alter_table('demarches', schema=None) as batch_op:
        batch_op.drop_constraint('uq_demarches_reference', type_='unique')
        batch_op.drop_column('data')
        batch_op.drop_column('reference')
