"""federated identities from standard providers: no linking key (they link no accounts)

Revision ID: 0012_federation_standard
Revises: 0010_federation
Create Date: 2026-12-01 23:50:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0012_federation_standard'
down_revision = '0010_federation'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # a standard OpenID provider's identity is not a pivot identity: it is stored without a key
    # (NULL, which the unique index lets many rows have) and never links to another account
    with op.batch_alter_table('pivot_identities', schema=None) as batch_op:
        batch_op.alter_column('linking_key', existing_type=sa.String(length=64), nullable=True)


def downgrade() -> None:
    op.execute("DELETE FROM accounts WHERE id IN (SELECT account_id FROM pivot_identities WHERE linking_key IS NULL)")
    with op.batch_alter_table('pivot_identities', schema=None) as batch_op:
        batch_op.alter_column('linking_key', existing_type=sa.String(length=64), nullable=False)
