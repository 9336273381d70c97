"""organisations: an association's RNA number (W and 9 digits), unique like the SIREN

Revision ID: 0015_orgs_rna
Revises: 0003_organisations
Create Date: 2026-12-02 04:05:00
"""
from alembic import op
import sqlalchemy as sa

revision = '0015_orgs_rna'
down_revision = '0003_organisations'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('organisations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('rna', sa.String(length=10), nullable=True))
        batch_op.create_unique_constraint('uq_organisations_rna', ['rna'])


def downgrade() -> None:
    with op.batch_alter_table('organisations', schema=None) as batch_op:
        batch_op.drop_constraint('uq_organisations_rna', type_='unique')
        batch_op.drop_column('rna')
