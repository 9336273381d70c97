"""justice: search columns, event corrections, soft detach, the person's language, calendar feed, help answers

Revision ID: 0002_justice
Revises: 0001_justice
"""
import unicodedata

import sqlalchemy as sa
from alembic import op

revision = '0002_justice'
down_revision = '0001_justice'
branch_labels = None
depends_on = None


def _folded(text: str) -> str:  # the rule of portals.justice.search.folded, frozen at this revision
    decomposed = unicodedata.normalize("NFKD", text or "")
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch)).casefold()
    return " ".join("".join(ch if ch.isalnum() else " " for ch in bare).split())


def upgrade() -> None:
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.add_column(sa.Column('court_search', sa.String(length=220), nullable=False, server_default=''))
    with op.batch_alter_table('parties', schema=None) as batch_op:
        batch_op.add_column(sa.Column('search_name', sa.String(length=420), nullable=False, server_default=''))
    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.add_column(sa.Column('status', sa.String(length=12), nullable=False, server_default='scheduled'))
        batch_op.add_column(sa.Column('sequence', sa.Integer(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('new_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('updated_at', sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table('attachments', schema=None) as batch_op:
        batch_op.add_column(sa.Column('detached_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.drop_column('email')
    with op.batch_alter_table('person_settings', schema=None) as batch_op:
        batch_op.add_column(sa.Column('locale', sa.String(length=8), nullable=False, server_default='fr'))
        batch_op.add_column(sa.Column('calendar_token_hash', sa.String(length=64), nullable=True))
        batch_op.create_unique_constraint('uq_person_settings_calendar', ['calendar_token_hash'])
    op.create_table('help_answers',
                    sa.Column('id', sa.String(length=36), nullable=False),
                    sa.Column('section', sa.String(length=40), nullable=False),
                    sa.Column('found', sa.Boolean(), nullable=False),
                    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
                    sa.PrimaryKeyConstraint('id'))
    connection = op.get_bind()
    cases = sa.table('cases', sa.column('id'), sa.column('court_name'), sa.column('court_search'))
    for row in connection.execute(sa.select(cases.c.id, cases.c.court_name)).all():
        connection.execute(cases.update().where(cases.c.id == row.id).values(court_search=_folded(row.court_name)))
    parties = sa.table('parties', sa.column('id'), sa.column('last_name'), sa.column('first_name'),
                       sa.column('search_name'))
    for row in connection.execute(sa.select(parties.c.id, parties.c.last_name, parties.c.first_name)).all():
        both = f"{_folded(row.first_name)} {_folded(row.last_name)} | {_folded(row.last_name)} {_folded(row.first_name)}"
        connection.execute(parties.update().where(parties.c.id == row.id).values(search_name=both))


def downgrade() -> None:
    op.drop_table('help_answers')
    with op.batch_alter_table('person_settings', schema=None) as batch_op:
        batch_op.drop_constraint('uq_person_settings_calendar', type_='unique')
        batch_op.drop_column('calendar_token_hash')
        batch_op.drop_column('locale')
    with op.batch_alter_table('attachments', schema=None) as batch_op:
        batch_op.add_column(sa.Column('email', sa.String(length=320), nullable=True))
        batch_op.drop_column('detached_at')
    with op.batch_alter_table('events', schema=None) as batch_op:
        for column in ('updated_at', 'new_at', 'sequence', 'status'):
            batch_op.drop_column(column)
    with op.batch_alter_table('parties', schema=None) as batch_op:
        batch_op.drop_column('search_name')
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_column('court_search')
