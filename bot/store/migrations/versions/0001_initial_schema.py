"""initial schema

Revision ID: 0001
Revises: 
Create Date: 2026-11-27 14:18:16.093829
"""
import sqlalchemy as sa
from alembic import op

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table('entity',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=6), nullable=False),
    sa.Column('kind', sa.String(length=12), nullable=False),
    sa.Column('name', sa.String(length=40), nullable=False),
    sa.Column('kana', sa.String(length=80), nullable=False),
    sa.Column('name_en', sa.String(length=80), nullable=True),
    sa.Column('search_text', sa.String(length=200), nullable=False),
    sa.Column('prefecture_code', sa.String(length=6), nullable=False),
    sa.Column('latitude', sa.Float(), nullable=True),
    sa.Column('longitude', sa.Float(), nullable=True),
    sa.Column('site_url', sa.String(length=300), nullable=True),
    sa.Column('participating', sa.Boolean(), server_default=sa.text('(false)'), nullable=False),
    sa.Column('required_activities', sa.Integer(), server_default='3', nullable=False),
    sa.Column('renewal_mode', sa.String(length=6), server_default='auto', nullable=False),
    sa.Column('community_url', sa.String(length=500), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_entity')),
    sa.UniqueConstraint('code', name=op.f('uq_entity_code'))
    )
    with op.batch_alter_table('entity', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_entity_participating_kind'), ['participating', 'kind'], unique=False)
        batch_op.create_index(batch_op.f('ix_entity_prefecture_code'), ['prefecture_code'], unique=False)

    op.create_table('processed_event',
    sa.Column('webhook_event_id', sa.String(length=64), nullable=False),
    sa.Column('processed_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('webhook_event_id', name=op.f('pk_processed_event'))
    )
    with op.batch_alter_table('processed_event', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_processed_event_processed_at'), ['processed_at'], unique=False)

    op.create_table('person',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('line_user_id', sa.String(length=64), nullable=True),
    sa.Column('display_name', sa.String(length=100), nullable=True),
    sa.Column('locale', sa.String(length=10), nullable=True),
    sa.Column('profile_language', sa.String(length=35), nullable=True),
    sa.Column('residence_entity_id', sa.Integer(), nullable=True),
    sa.Column('following', sa.Boolean(), server_default=sa.text('(true)'), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_access_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('deleted_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['residence_entity_id'], ['entity.id'], name=op.f('fk_person_residence_entity_id_entity')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_person')),
    sa.UniqueConstraint('line_user_id', name=op.f('uq_person_line_user_id'))
    )
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
        batch_op.create_index(batch_op.f('ix_conversation_state_updated_at'), ['updated_at'], unique=False)

    op.create_table('registration',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('entity_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=7), nullable=False),
    sa.Column('status', sa.String(length=6), nullable=False),
    sa.Column('origin', sa.String(length=15), nullable=False),
    sa.Column('registered_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('end_reason', sa.String(length=40), nullable=True),
    sa.Column('counted_in_statistics', sa.Boolean(), server_default=sa.text('(true)'), nullable=False),
    sa.ForeignKeyConstraint(['entity_id'], ['entity.id'], name=op.f('fk_registration_entity_id_entity')),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], name=op.f('fk_registration_person_id_person')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_registration'))
    )
    with op.batch_alter_table('registration', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_registration_entity_id_kind_status'), ['entity_id', 'kind', 'status'], unique=False)
        batch_op.create_index(batch_op.f('ix_registration_person_id'), ['person_id'], unique=False)
        batch_op.create_index('uq_registration_active', ['person_id', 'entity_id', 'kind'], unique=True, sqlite_where=sa.text("status = 'active'"), postgresql_where=sa.text("status = 'active'"))

    op.create_table('survey_answer',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('registration_id', sa.Integer(), nullable=False),
    sa.Column('question', sa.String(length=40), nullable=False),
    sa.Column('answer', sa.String(length=40), nullable=False),
    sa.Column('answered_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['registration_id'], ['registration.id'], name=op.f('fk_survey_answer_registration_id_registration'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_survey_answer'))
    )
    with op.batch_alter_table('survey_answer', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_survey_answer_registration_id'), ['registration_id'], unique=False)




def downgrade() -> None:

    with op.batch_alter_table('survey_answer', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_survey_answer_registration_id'))

    op.drop_table('survey_answer')
    with op.batch_alter_table('registration', schema=None) as batch_op:
        batch_op.drop_index('uq_registration_active', sqlite_where=sa.text("status = 'active'"), postgresql_where=sa.text("status = 'active'"))
        batch_op.drop_index(batch_op.f('ix_registration_person_id'))
        batch_op.drop_index(batch_op.f('ix_registration_entity_id_kind_status'))

    op.drop_table('registration')
    with op.batch_alter_table('conversation_state', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_conversation_state_updated_at'))

    op.drop_table('conversation_state')
    op.drop_table('person')
    with op.batch_alter_table('processed_event', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_processed_event_processed_at'))

    op.drop_table('processed_event')
    with op.batch_alter_table('entity', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_entity_prefecture_code'))
        batch_op.drop_index(batch_op.f('ix_entity_participating_kind'))

    op.drop_table('entity')

