"""bot/store/db.py: `persistent`, the session's object for a row read with Core."""

from __future__ import annotations

import subprocess
import sys
import textwrap

from sqlalchemy import select

from bot.store.db import Database, persistent
from bot.store.models import Entity


def _first_entity_row(session):
    return session.execute(select(Entity.__table__).where(Entity.code == "363421")).one()


def test_the_row_becomes_the_sessions_object_with_nothing_to_write(database_url):
    db = Database(database_url)
    try:
        with db.transaction() as session:
            row = _first_entity_row(session)
            entity = persistent(session, Entity, row)
            assert (entity.id, entity.code, entity.name) == (row.id, "363421", "神山町")
            assert entity in session and not session.dirty and not session.new
            assert session.get(Entity, row.id) is entity  # no second object, no query
            assert persistent(session, Entity, row) is entity
            entity.community_url = "https://example.jp/room"  # a change is written as usual
        with db.transaction() as session:
            assert session.get(Entity, row.id).community_url == "https://example.jp/room"
    finally:
        db.dispose()


def test_an_object_the_session_has_is_kept_as_it_is(database_url):
    db = Database(database_url)
    try:
        with db.transaction() as session:
            loaded = session.scalar(select(Entity).where(Entity.code == "363421"))
            loaded.name = "変えた名前"
            with session.no_autoflush:  # the row still says 神山町
                row = _first_entity_row(session)
            assert row.name == "神山町"
            assert persistent(session, Entity, row) is loaded
            assert loaded.name == "変えた名前" and loaded in session.dirty
            session.rollback()
    finally:
        db.dispose()


def test_a_new_process_can_build_objects_before_its_first_orm_query(database_url):
    # A gunicorn worker's first event may build its person before SQLAlchemy has configured
    # the mappers, which happens on the first ORM query.
    script = textwrap.dedent("""
        import sys
        from sqlalchemy import select
        from bot.store.db import Database, persistent
        from bot.store.models import Entity
        db = Database(sys.argv[1])
        with db.transaction() as session:
            row = session.execute(select(Entity.__table__).where(Entity.code == "363421")).one()
            print(persistent(session, Entity, row).name)
        db.dispose()
    """)
    done = subprocess.run([sys.executable, "-c", script, database_url], capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "神山町"
