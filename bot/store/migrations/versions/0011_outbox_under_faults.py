"""outbox: lease tokens, the first try, failure reasons, purging, and a queue-wide pause

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-08 00:00:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('outbox_message', schema=None) as batch_op:
        batch_op.add_column(sa.Column('failure', sa.String(length=7), nullable=True))
        batch_op.add_column(sa.Column('recipient_count', sa.Integer(), nullable=False,
                                      server_default='0'))
        batch_op.add_column(sa.Column('lease_token', sa.String(length=36), nullable=True))
        batch_op.add_column(sa.Column('first_tried_at', sa.DateTime(timezone=True),
                                      nullable=True))
        batch_op.add_column(sa.Column('purged_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index('ix_outbox_message_unpurged', ['created_at'], unique=False,
                              postgresql_where=sa.text('purged_at IS NULL'),
                              sqlite_where=sa.text('purged_at IS NULL'))
    op.execute('UPDATE outbox_message SET recipient_count = json_array_length(recipients)')
    # Rows that failed before: the worker's old words for an expired key, else LINE's refusal.
    op.execute("UPDATE outbox_message SET failure = CASE WHEN last_error LIKE 'gave up%' "
               "THEN 'expired' ELSE 'refused' END WHERE status = 'failed'")
    # A row tried before is treated as tried when it was queued: the safe side of 24 hours.
    op.execute('UPDATE outbox_message SET first_tried_at = created_at WHERE attempts > 0')
    with op.batch_alter_table('outbox_message', schema=None) as batch_op:
        batch_op.alter_column('recipient_count', server_default=None)
    op.create_table('outbox_pause',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('reason', sa.String(length=12), nullable=False),
    sa.Column('detail', sa.String(length=1000), nullable=True),
    sa.Column('since', sa.DateTime(timezone=True), nullable=False),
    sa.Column('resume_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outbox_pause'))
    )


def downgrade() -> None:
    op.drop_table('outbox_pause')
    with op.batch_alter_table('outbox_message', schema=None) as batch_op:
        batch_op.drop_index('ix_outbox_message_unpurged')
        batch_op.drop_column('purged_at')
        batch_op.drop_column('first_tried_at')
        batch_op.drop_column('lease_token')
        batch_op.drop_column('recipient_count')
        batch_op.drop_column('failure')
