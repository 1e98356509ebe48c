"""monitor surveys keep who they were sent to and when: only they answer

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07 05:00:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('monitor_survey', schema=None) as batch_op:
        batch_op.add_column(sa.Column('audience', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('monitor_survey', schema=None) as batch_op:
        batch_op.drop_column('sent_at')
        batch_op.drop_column('audience')
