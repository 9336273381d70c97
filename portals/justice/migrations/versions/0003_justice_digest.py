"""justice: the daily digest of update alerts

Revision ID: 0003_justice
Revises: 0002_justice
"""
import sqlalchemy as sa
from alembic import op

revision = '0003_justice'
down_revision = '0002_justice'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('person_settings', schema=None) as batch_op:
        batch_op.add_column(sa.Column('digest', sa.String(length=12), nullable=False, server_default='immediate'))
    op.create_table('pending_alerts',
                    sa.Column('id', sa.String(length=36), nullable=False),
                    sa.Column('email', sa.String(length=320), nullable=False),
                    sa.Column('locale', sa.String(length=8), nullable=False),
                    sa.Column('case_id', sa.String(length=36), nullable=False),
                    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
                    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], ondelete='CASCADE'),
                    sa.PrimaryKeyConstraint('id'),
                    sa.UniqueConstraint('email', 'case_id'))


def downgrade() -> None:
    op.drop_table('pending_alerts')
    with op.batch_alter_table('person_settings', schema=None) as batch_op:
        batch_op.drop_column('digest')
