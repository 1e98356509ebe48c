"""used links: the rotating-code screen's link from the chat opens one browser only

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-08 00:30:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('used_link',
    sa.Column('nonce', sa.String(length=32), nullable=False),
    sa.Column('used_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('nonce', name=op.f('pk_used_link'))
    )
    with op.batch_alter_table('used_link', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_used_link_expires_at'), ['expires_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('used_link', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_used_link_expires_at'))
    op.drop_table('used_link')
