"""One Alembic history for SQLite and PostgreSQL: down to nothing and up again."""

from __future__ import annotations

from sqlalchemy import inspect, select

from bot.services import entities
from bot.store import migrate
from bot.store.db import Base
from bot.store.models import Person


def test_downgrade_to_base_and_upgrade_again(db):
    migrate.downgrade(db, "base")
    assert set(inspect(db.engine).get_table_names()) <= {"alembic_version"}
    migrate.upgrade(db)
    assert set(Base.metadata.tables) <= set(inspect(db.engine).get_table_names())
    with db.transaction() as session:  # the database is shared with later tests on PostgreSQL
        entities.load(session)


def test_the_models_and_the_migrations_agree(db):
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext
    with db.engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert differences == []


def test_conversations_in_progress_move_onto_the_person_and_back(db):
    """0009 moves each state from its own table onto the person's row; the downgrade back."""
    from datetime import UTC, datetime

    from sqlalchemy import text

    at = datetime(2026, 11, 28, 5, 0, tzinfo=UTC)
    migrate.downgrade(db, "0008")
    with db.engine.begin() as connection:
        connection.execute(text("INSERT INTO person (line_user_id, following, created_at) "
                                "VALUES ('U1', true, :at), ('U2', true, :at)"), {"at": at})
        busy = connection.scalar(text("SELECT id FROM person WHERE line_user_id = 'U1'"))
        connection.execute(text("INSERT INTO conversation_state VALUES "
                                "(:id, 'reg.confirm', 'tok', :data, :at)"),
                           {"id": busy, "data": '{"code": "363421"}', "at": at})
    try:
        migrate.upgrade(db)
        with db.transaction() as session:
            people = {p.line_user_id: p for p in session.scalars(select(Person))}
            assert (people["U1"].conversation, people["U1"].conversation_token,
                    people["U1"].conversation_data, people["U1"].conversation_at) == (
                "reg.confirm", "tok", {"code": "363421"}, at)
            assert people["U2"].conversation is None and people["U2"].conversation_at is None
        migrate.downgrade(db, "0008")
        with db.engine.connect() as connection:
            rows = connection.execute(text("SELECT person_id, name, token FROM conversation_state"))
            assert [tuple(row) for row in rows] == [(busy, "reg.confirm", "tok")]
    finally:
        with db.engine.begin() as connection:
            connection.execute(text("DELETE FROM conversation_state"))
            connection.execute(text("DELETE FROM person"))
        migrate.upgrade(db)
