"""clock: per-item job marks and the clock's lease (issue #6)

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-28 10:00:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('job_mark',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('job', sa.String(length=40), nullable=False),
    sa.Column('subject_id', sa.Integer(), nullable=False),
    sa.Column('subject_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('outcome', sa.String(length=40), nullable=False),
    sa.Column('done_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_job_mark'))
    )
    with op.batch_alter_table('job_mark', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_job_mark_done_at'), ['done_at'], unique=False)
        batch_op.create_index('uq_job_mark_item', ['job', 'subject_id', 'subject_at'], unique=True)

    op.create_table('clock_lease',
    sa.Column('name', sa.String(length=40), nullable=False),
    sa.Column('holder', sa.String(length=100), nullable=False),
    sa.Column('acquired_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_clock_lease'))
    )


def downgrade() -> None:
    op.drop_table('clock_lease')
    with op.batch_alter_table('job_mark', schema=None) as batch_op:
        batch_op.drop_index('uq_job_mark_item')
        batch_op.drop_index(batch_op.f('ix_job_mark_done_at'))
    op.drop_table('job_mark')
