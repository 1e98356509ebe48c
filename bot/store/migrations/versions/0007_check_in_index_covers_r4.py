"""R4 counted from the check-in index alone: (person_id, checked_in_at) INCLUDE (session_id)

The expiry judgement counts each due registration's designated check-ins of the last twelve
months (issue #6); with the session in the index, PostgreSQL reads no table row for it.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-27 21:40:00
"""
from alembic import op

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None

INDEX = 'ix_check_in_person_id_checked_in_at'


def upgrade() -> None:
    with op.batch_alter_table('check_in', schema=None) as batch_op:
        batch_op.drop_index(INDEX)
        batch_op.create_index(INDEX, ['person_id', 'checked_in_at'], unique=False,
                              postgresql_include=['session_id'])


def downgrade() -> None:
    with op.batch_alter_table('check_in', schema=None) as batch_op:
        batch_op.drop_index(INDEX)
        batch_op.create_index(INDEX, ['person_id', 'checked_in_at'], unique=False)
