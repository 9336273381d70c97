"""parties: several people per application (applicant, representatives), each with its invitation
status; documents: the registry's work queue (processed) and its filing notices (digest)

The applicant of each application becomes its first party (role applicant), with its address,
subject, language, the moment it sees documents from and its detachment; the applications lose
those columns. Filings already there count as told to the registry (no digest resends them).

Revision ID: 0005_ecomms_parties_queue
Revises: 0004_ecomms_deposits
Create Date: 2026-12-02 03:30:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0005_ecomms_parties_queue'
down_revision = '0004_ecomms_deposits'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('parties',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('application_id', sa.String(length=36), nullable=False),
    sa.Column('role', sa.String(length=20), nullable=False),
    sa.Column('email', sa.String(length=320), nullable=False),
    sa.Column('sub', sa.String(length=128), nullable=True),
    sa.Column('locale', sa.String(length=8), nullable=False),
    sa.Column('invitation', sa.String(length=12), nullable=False),
    sa.Column('invited_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('first_seen_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('visible_from', sa.DateTime(timezone=True), nullable=True),
    sa.Column('detached_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('detached_reason', sa.String(length=20), nullable=True),
    sa.Column('created_by', sa.String(length=128), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['application_id'], ['applications.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('application_id', 'email', name='uq_parties_application_email')
    )
    with op.batch_alter_table('parties', schema=None) as batch_op:
        batch_op.create_index('ix_parties_sub', ['sub'], unique=False)
    op.execute(
        "INSERT INTO parties (id, application_id, role, email, sub, locale, invitation, invited_at, visible_from, "
        "detached_at, detached_reason, created_by, created_at) "
        "SELECT id, id, 'applicant', applicant_email, applicant_sub, applicant_locale, 'pending', created_at, "
        "attached_at, detached_at, CASE WHEN detached_at IS NULL THEN NULL ELSE 'address_change' END, created_by, "
        "created_at FROM applications")
    # ALTER TABLE … DROP COLUMN in place (SQLite 3.35+), never a copy of the table: dropping the old
    # applications table would cascade (foreign keys on) and delete every party and document
    with op.batch_alter_table('applications', schema=None, recreate='never') as batch_op:
        batch_op.drop_index('ix_applications_applicant')
        batch_op.drop_column('detached_at')
        batch_op.drop_column('attached_at')
        batch_op.drop_column('applicant_locale')
        batch_op.drop_column('applicant_sub')
        batch_op.drop_column('applicant_email')
    with op.batch_alter_table('documents', schema=None) as batch_op:
        batch_op.add_column(sa.Column('processed_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('processed_by', sa.String(length=128), nullable=True))
        batch_op.add_column(sa.Column('registry_notified_at', sa.DateTime(timezone=True), nullable=True))
    op.execute("UPDATE documents SET registry_notified_at = created_at WHERE direction = 'to_court'")


def downgrade() -> None:
    with op.batch_alter_table('documents', schema=None) as batch_op:
        batch_op.drop_column('registry_notified_at')
        batch_op.drop_column('processed_by')
        batch_op.drop_column('processed_at')
    with op.batch_alter_table('applications', schema=None) as batch_op:
        batch_op.add_column(sa.Column('applicant_email', sa.String(length=320), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('applicant_sub', sa.String(length=128), nullable=True))
        batch_op.add_column(sa.Column('applicant_locale', sa.String(length=8), nullable=False, server_default='fr'))
        batch_op.add_column(sa.Column('attached_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('detached_at', sa.DateTime(timezone=True), nullable=True))
    op.execute(
        "UPDATE applications SET applicant_email = p.email, applicant_sub = p.sub, applicant_locale = p.locale, "
        "attached_at = p.visible_from, detached_at = p.detached_at FROM (SELECT * FROM parties WHERE role = "
        "'applicant') AS p WHERE p.application_id = applications.id")
    with op.batch_alter_table('applications', schema=None) as batch_op:
        batch_op.create_index('ix_applications_applicant', ['applicant_sub', 'status'], unique=False)
    op.drop_table('parties')
