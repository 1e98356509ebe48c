"""staff, activities and check-ins

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27 14:48:55.652100
"""
import sqlalchemy as sa
from alembic import op

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table('activity',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('entity_id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=100), nullable=False),
    sa.Column('category', sa.String(length=21), nullable=False),
    sa.Column('designated', sa.Boolean(), nullable=False),
    sa.Column('place', sa.String(length=200), nullable=False),
    sa.Column('status', sa.String(length=9), nullable=False),
    sa.Column('rotate_seconds', sa.Integer(), nullable=True),
    sa.Column('created_by_person_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['created_by_person_id'], ['person.id'], name=op.f('fk_activity_created_by_person_id_person')),
    sa.ForeignKeyConstraint(['entity_id'], ['entity.id'], name=op.f('fk_activity_entity_id_entity')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_activity'))
    )
    with op.batch_alter_table('activity', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_activity_entity_id_status'), ['entity_id', 'status'], unique=False)

    op.create_table('staff',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('entity_id', sa.Integer(), nullable=False),
    sa.Column('role', sa.String(length=5), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('removed_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['entity_id'], ['entity.id'], name=op.f('fk_staff_entity_id_entity')),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], name=op.f('fk_staff_person_id_person')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_staff'))
    )
    with op.batch_alter_table('staff', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_staff_entity_id'), ['entity_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_staff_person_id'), ['person_id'], unique=False)
        batch_op.create_index('uq_staff_active', ['person_id', 'entity_id'], unique=True, sqlite_where=sa.text('removed_at IS NULL'), postgresql_where=sa.text('removed_at IS NULL'))

    op.create_table('staff_invitation',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code_hash', sa.String(length=64), nullable=False),
    sa.Column('entity_id', sa.Integer(), nullable=False),
    sa.Column('role', sa.String(length=5), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('used_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('used_by_person_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['entity_id'], ['entity.id'], name=op.f('fk_staff_invitation_entity_id_entity')),
    sa.ForeignKeyConstraint(['used_by_person_id'], ['person.id'], name=op.f('fk_staff_invitation_used_by_person_id_person')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_staff_invitation')),
    sa.UniqueConstraint('code_hash', name=op.f('uq_staff_invitation_code_hash'))
    )
    with op.batch_alter_table('staff_invitation', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_staff_invitation_expires_at'), ['expires_at'], unique=False)

    op.create_table('activity_session',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('activity_id', sa.Integer(), nullable=False),
    sa.Column('starts_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ends_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['activity_id'], ['activity.id'], name=op.f('fk_activity_session_activity_id_activity')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_activity_session'))
    )
    with op.batch_alter_table('activity_session', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_activity_session_activity_id'), ['activity_id'], unique=False)

    op.create_table('check_in',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('session_id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('checked_in_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('method', sa.String(length=5), nullable=False),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], name=op.f('fk_check_in_person_id_person')),
    sa.ForeignKeyConstraint(['session_id'], ['activity_session.id'], name=op.f('fk_check_in_session_id_activity_session')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_check_in'))
    )
    with op.batch_alter_table('check_in', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_check_in_person_id_checked_in_at'), ['person_id', 'checked_in_at'], unique=False)
        batch_op.create_index('uq_check_in_once', ['session_id', 'person_id'], unique=True)




def downgrade() -> None:

    with op.batch_alter_table('check_in', schema=None) as batch_op:
        batch_op.drop_index('uq_check_in_once')
        batch_op.drop_index(batch_op.f('ix_check_in_person_id_checked_in_at'))

    op.drop_table('check_in')
    with op.batch_alter_table('activity_session', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_activity_session_activity_id'))

    op.drop_table('activity_session')
    with op.batch_alter_table('staff_invitation', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_staff_invitation_expires_at'))

    op.drop_table('staff_invitation')
    with op.batch_alter_table('staff', schema=None) as batch_op:
        batch_op.drop_index('uq_staff_active', sqlite_where=sa.text('removed_at IS NULL'), postgresql_where=sa.text('removed_at IS NULL'))
        batch_op.drop_index(batch_op.f('ix_staff_person_id'))
        batch_op.drop_index(batch_op.f('ix_staff_entity_id'))

    op.drop_table('staff')
    with op.batch_alter_table('activity', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_activity_entity_id_status'))

    op.drop_table('activity')

