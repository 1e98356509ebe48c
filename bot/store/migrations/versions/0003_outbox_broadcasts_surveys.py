"""outbox, broadcasts, monitor surveys, community room setting

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27 15:12:41.989714
"""
import sqlalchemy as sa
from alembic import op

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table('broadcast',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('entity_id', sa.Integer(), nullable=False),
    sa.Column('created_by_person_id', sa.Integer(), nullable=True),
    sa.Column('messages', sa.JSON(), nullable=False),
    sa.Column('summary', sa.String(length=200), nullable=False),
    sa.Column('audience', sa.JSON(), nullable=False),
    sa.Column('status', sa.String(length=9), nullable=False),
    sa.Column('send_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('queued_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('cursor', sa.Integer(), nullable=False),
    sa.Column('recipients', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['created_by_person_id'], ['person.id'], name=op.f('fk_broadcast_created_by_person_id_person')),
    sa.ForeignKeyConstraint(['entity_id'], ['entity.id'], name=op.f('fk_broadcast_entity_id_entity')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_broadcast'))
    )
    with op.batch_alter_table('broadcast', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_broadcast_entity_id'), ['entity_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_broadcast_status_send_at'), ['status', 'send_at'], unique=False)

    op.create_table('monitor_survey',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('entity_id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=100), nullable=False),
    sa.Column('status', sa.String(length=6), nullable=False),
    sa.Column('created_by_person_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['created_by_person_id'], ['person.id'], name=op.f('fk_monitor_survey_created_by_person_id_person')),
    sa.ForeignKeyConstraint(['entity_id'], ['entity.id'], name=op.f('fk_monitor_survey_entity_id_entity')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_monitor_survey'))
    )
    with op.batch_alter_table('monitor_survey', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_monitor_survey_entity_id'), ['entity_id'], unique=False)

    op.create_table('monitor_question',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('survey_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=8), nullable=False),
    sa.Column('text', sa.String(length=300), nullable=False),
    sa.Column('choices', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['survey_id'], ['monitor_survey.id'], name=op.f('fk_monitor_question_survey_id_monitor_survey')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_monitor_question'))
    )
    with op.batch_alter_table('monitor_question', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_monitor_question_survey_id'), ['survey_id'], unique=False)

    op.create_table('monitor_response',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('survey_id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('completed_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], name=op.f('fk_monitor_response_person_id_person')),
    sa.ForeignKeyConstraint(['survey_id'], ['monitor_survey.id'], name=op.f('fk_monitor_response_survey_id_monitor_survey')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_monitor_response'))
    )
    with op.batch_alter_table('monitor_response', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_monitor_response_person_id'), ['person_id'], unique=False)
        batch_op.create_index('uq_monitor_response_once', ['survey_id', 'person_id'], unique=True)

    op.create_table('outbox_message',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('recipients', sa.JSON(), nullable=False),
    sa.Column('messages', sa.JSON(), nullable=False),
    sa.Column('retry_key', sa.String(length=36), nullable=False),
    sa.Column('status', sa.String(length=7), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('available_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_error', sa.String(length=1000), nullable=True),
    sa.Column('broadcast_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['broadcast_id'], ['broadcast.id'], name=op.f('fk_outbox_message_broadcast_id_broadcast')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outbox_message')),
    sa.UniqueConstraint('retry_key', name=op.f('uq_outbox_message_retry_key'))
    )
    with op.batch_alter_table('outbox_message', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_outbox_message_broadcast_id'), ['broadcast_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_outbox_message_status_available_at'), ['status', 'available_at'], unique=False)

    op.create_table('monitor_answer',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('response_id', sa.Integer(), nullable=False),
    sa.Column('question_id', sa.Integer(), nullable=False),
    sa.Column('value', sa.String(length=2000), nullable=False),
    sa.ForeignKeyConstraint(['question_id'], ['monitor_question.id'], name=op.f('fk_monitor_answer_question_id_monitor_question')),
    sa.ForeignKeyConstraint(['response_id'], ['monitor_response.id'], name=op.f('fk_monitor_answer_response_id_monitor_response'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_monitor_answer'))
    )
    with op.batch_alter_table('monitor_answer', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_monitor_answer_question_id'), ['question_id'], unique=False)
        batch_op.create_index('uq_monitor_answer_once', ['response_id', 'question_id'], unique=True)

    with op.batch_alter_table('entity', schema=None) as batch_op:
        batch_op.add_column(sa.Column('community_premium_only', sa.Boolean(), server_default=sa.text('(false)'), nullable=False))




def downgrade() -> None:

    with op.batch_alter_table('entity', schema=None) as batch_op:
        batch_op.drop_column('community_premium_only')

    with op.batch_alter_table('monitor_answer', schema=None) as batch_op:
        batch_op.drop_index('uq_monitor_answer_once')
        batch_op.drop_index(batch_op.f('ix_monitor_answer_question_id'))

    op.drop_table('monitor_answer')
    with op.batch_alter_table('outbox_message', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_outbox_message_status_available_at'))
        batch_op.drop_index(batch_op.f('ix_outbox_message_broadcast_id'))

    op.drop_table('outbox_message')
    with op.batch_alter_table('monitor_response', schema=None) as batch_op:
        batch_op.drop_index('uq_monitor_response_once')
        batch_op.drop_index(batch_op.f('ix_monitor_response_person_id'))

    op.drop_table('monitor_response')
    with op.batch_alter_table('monitor_question', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_monitor_question_survey_id'))

    op.drop_table('monitor_question')
    with op.batch_alter_table('monitor_survey', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_monitor_survey_entity_id'))

    op.drop_table('monitor_survey')
    with op.batch_alter_table('broadcast', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_broadcast_status_send_at'))
        batch_op.drop_index(batch_op.f('ix_broadcast_entity_id'))

    op.drop_table('broadcast')

