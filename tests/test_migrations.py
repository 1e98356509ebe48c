"""One Alembic history for SQLite and PostgreSQL: down to nothing and up again."""

from __future__ import annotations

from sqlalchemy import inspect

from bot import entities, migrate
from bot.db import Base


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
