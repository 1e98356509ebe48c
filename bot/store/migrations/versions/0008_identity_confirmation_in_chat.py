"""identity: a callback in another browser waits for a code sent in the person's chat

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-28 01:00:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('verification_attempt', schema=None) as batch_op:
        batch_op.add_column(sa.Column('pending_result', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('confirmation_digest', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('confirm_by', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('confirmation_tries', sa.Integer(),
                                      server_default=sa.text('0'), nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('verification_attempt', schema=None) as batch_op:
        batch_op.drop_column('confirmation_tries')
        batch_op.drop_column('confirm_by')
        batch_op.drop_column('confirmation_digest')
        batch_op.drop_column('pending_result')
