"""Counting the SQL statements an engine's connections hand to the driver, for tests and
benchmarks.

On PostgreSQL some statements run on psycopg directly (bot/store/driver_sql.py), past SQLAlchemy's
events, so they are counted at psycopg's cursors; on SQLite every statement goes through
SQLAlchemy and its `before_cursor_execute` event counts them. An `executemany` counts once, a
server-side cursor's statement once (not its fetches); COMMIT is counted from SQLAlchemy's
`commit` event on both; psycopg's implicit BEGIN is not counted.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from sqlalchemy import event
from sqlalchemy.engine import Engine


@contextmanager
def counting_statements(engine: Engine, count: Callable[[], None]) -> Iterator[None]:
    """Call `count()` for every statement (and COMMIT) sent while the block runs.

    The engine's pooled connections are dropped before and after, so that every connection
    used in the block is a new one, set up to count, and none counts afterwards.
    """
    def commit(_connection) -> None:
        count()

    if engine.dialect.name == "postgresql":
        import psycopg

        class CountingCursor(psycopg.Cursor):
            def execute(self, *args, **kwargs):
                count()
                return super().execute(*args, **kwargs)

            def executemany(self, *args, **kwargs):
                count()
                return super().executemany(*args, **kwargs)

        class CountingServerCursor(psycopg.ServerCursor):
            def execute(self, *args, **kwargs):
                count()
                return super().execute(*args, **kwargs)

        def connected(dbapi_connection, _record) -> None:
            dbapi_connection.cursor_factory = CountingCursor
            dbapi_connection.server_cursor_factory = CountingServerCursor

        listeners = [(engine, "connect", connected), (engine, "commit", commit)]
    else:
        def executing(*_args) -> None:
            count()

        listeners = [(engine, "before_cursor_execute", executing), (engine, "commit", commit)]
    engine.dispose()
    for target, name, listener in listeners:
        event.listen(target, name, listener)
    try:
        yield
    finally:
        for target, name, listener in listeners:
            event.remove(target, name, listener)
        engine.dispose()
