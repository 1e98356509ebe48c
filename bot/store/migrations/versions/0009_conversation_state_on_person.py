"""conversations: the state moves onto the person's row (read with its lock, no statement of its own)

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-28 05:00:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None

_COPIED = (('conversation', 'name'), ('conversation_token', 'token'),
           ('conversation_data', 'data'), ('conversation_at', 'updated_at'))


def upgrade() -> None:
    with op.batch_alter_table('person', schema=None) as batch_op:
        batch_op.add_column(sa.Column('conversation', sa.String(length=60), nullable=True))
        batch_op.add_column(sa.Column('conversation_token', sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column('conversation_data', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('conversation_at', sa.DateTime(timezone=True),
                                      nullable=True))
        batch_op.create_index('ix_person_conversation_at', ['conversation_at'], unique=False,
                              postgresql_where=sa.text('conversation IS NOT NULL'),
                              sqlite_where=sa.text('conversation IS NOT NULL'))
    # Correlated subqueries rather than UPDATE … FROM: the same SQL on both databases.
    assignments = ', '.join(
        f'{column} = (SELECT s.{source} FROM conversation_state s WHERE s.person_id = person.id)'
        for column, source in _COPIED)
    op.execute(f'UPDATE person SET {assignments} '
               'WHERE id IN (SELECT person_id FROM conversation_state)')
    with op.batch_alter_table('conversation_state', schema=None) as batch_op:
        batch_op.drop_index('ix_conversation_state_updated_at')
    op.drop_table('conversation_state')


def downgrade() -> None:
    op.create_table('conversation_state',
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=60), nullable=False),
    sa.Column('token', sa.String(length=16), nullable=False),
    sa.Column('data', sa.JSON(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], name=op.f('fk_conversation_state_person_id_person'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('person_id', name=op.f('pk_conversation_state'))
    )
    with op.batch_alter_table('conversation_state', schema=None) as batch_op:
        batch_op.create_index('ix_conversation_state_updated_at', ['updated_at'], unique=False)
    columns = ', '.join(column for column, _ in _COPIED)
    sources = ', '.join(source for _, source in _COPIED)
    op.execute(f"INSERT INTO conversation_state (person_id, {sources}) "
               f"SELECT id, {columns} FROM person WHERE conversation IS NOT NULL")
    # Plain ALTER TABLE … DROP COLUMN (SQLite 3.35+), not a batch copy of the table: dropping
    # the old person table would cascade to the conversation_state rows just copied back.
    op.drop_index('ix_person_conversation_at', table_name='person')
    for column, _ in reversed(_COPIED):
        op.drop_column('person', column)
