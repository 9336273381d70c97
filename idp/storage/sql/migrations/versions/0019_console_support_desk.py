"""the support desk (the operators' console): contact requests handed over by every portal

Revision ID: 0019_console_support_desk
Revises: 0018_console_org_suspended
Create Date: 2026-12-02 06:50:00
"""
from alembic import op
import sqlalchemy as sa

revision = '0019_console_support_desk'
down_revision = '0018_console_org_suspended'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'support_tickets',
        sa.Column('id', sa.String(length=36), nullable=False),
        sa.Column('client_id', sa.String(length=64), nullable=False),
        sa.Column('reference', sa.String(length=32), nullable=False),
        sa.Column('email', sa.String(length=320), nullable=False),
        sa.Column('name', sa.String(length=200), nullable=True),
        sa.Column('topic', sa.String(length=40), nullable=False),
        sa.Column('message', sa.Text(), nullable=False),
        sa.Column('locale', sa.String(length=8), nullable=False),
        sa.Column('page', sa.String(length=300), nullable=True),
        sa.Column('organisation', sa.String(length=200), nullable=True),
        sa.Column('status', sa.String(length=12), nullable=False),
        sa.Column('answers', sa.JSON(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('client_id', 'reference', name='uq_support_client_reference'),
    )
    op.create_index('ix_support_tickets_client_id', 'support_tickets', ['client_id'])
    op.create_index('ix_support_tickets_status', 'support_tickets', ['status'])
    op.create_index('ix_support_tickets_created_at', 'support_tickets', ['created_at'])


def downgrade() -> None:
    op.drop_table('support_tickets')
