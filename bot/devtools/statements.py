"""Counting the SQL statements an engine sends, for tests and benchmarks.

Every statement goes through SQLAlchemy, whose `before_cursor_execute` event counts it: an
`executemany` counts once, a server-side cursor's statement once (not its fetches). COMMIT is
counted from SQLAlchemy's `commit` event; psycopg's implicit BEGIN is not counted, SQLite's
BEGIN IMMEDIATE (bot/store/db.py) is.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from sqlalchemy import event
from sqlalchemy.engine import Engine


@contextmanager
def counting_statements(engine: Engine, count: Callable[[], None]) -> Iterator[None]:
    """Call `count()` for every statement (and COMMIT) sent while the block runs."""
    def executing(*_args) -> None:
        count()

    def commit(_connection) -> None:
        count()

    listeners = [("before_cursor_execute", executing), ("commit", commit)]
    for name, listener in listeners:
        event.listen(engine, name, listener)
    try:
        yield
    finally:
        for name, listener in listeners:
            event.remove(engine, name, listener)
