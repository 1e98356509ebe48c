"""media for broadcast images

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-27 15:13:57.138811
"""
import sqlalchemy as sa
from alembic import op

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table('media',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('entity_id', sa.Integer(), nullable=False),
    sa.Column('original', sa.LargeBinary(), nullable=False),
    sa.Column('preview', sa.LargeBinary(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['entity_id'], ['entity.id'], name=op.f('fk_media_entity_id_entity')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_media'))
    )



def downgrade() -> None:

    op.drop_table('media')

