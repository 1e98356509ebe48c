"""Statements the webhook runs on most events, run on the PostgreSQL driver itself.

Running a cached Core statement through SQLAlchemy's engine costs more CPU than psycopg's own
work for it (result metadata, parameter processing, events), and every webhook event runs two
or three such statements besides its conversation's: claiming the event with its person's
row, writing the conversation's state, reading the person's registrations. Done here instead,
the webhook's CPU per request fell by about 7 % (docs/benchmarks.md, "Seventh look").

The statements are still written in Core and compiled by SQLAlchemy, once. On PostgreSQL they
then run on the psycopg connection of the session's own transaction, so they commit or roll
back with the rest of the event, after the session's autoflush, their values through the
columns' own bind and result processors. Elsewhere (SQLite: the tests, the simulator) they run
through the session as usual.

What that gives up: SQLAlchemy's engine events and its statement log do not see them; tests and
benchmarks count statements at the driver (bot/devtools/statements.py).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from sqlalchemy import exc
from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.orm import Session
from sqlalchemy.sql import Select
from sqlalchemy.sql.dml import UpdateBase


@dataclass(frozen=True)
class _Compiled:
    sql: str
    #: Every bind's value when the caller does not give it (the literal values of the statement).
    defaults: dict[str, object]
    #: The binds the caller must give, as SQLAlchemy insists.
    required: frozenset[str]
    bind_processors: tuple[tuple[str, Callable], ...]


class DriverStatement:
    """A Core statement that runs on psycopg directly, on any other driver through the
    session; `run` gives the rows it returns as the same plain tuples on both, and raises
    SQLAlchemy's exceptions on both."""

    def __init__(self, statement: Select | UpdateBase):
        self.statement = statement
        #: What it returns (its SELECT or RETURNING list), whose result processors apply.
        self._returns = list(statement.exported_columns)
        self._compiled: _Compiled | None = None
        #: One per returned column, None where the driver's value is already the column's;
        #: made from the first result's description, as SQLAlchemy makes them (PostgreSQL's
        #: numeric types need the type the server answers with).
        self._result_processors: tuple[Callable | None, ...] | None = None

    def run(self, session: Session, params: Mapping[str, object]) -> list[tuple]:
        connection = session.connection()
        if connection.dialect.driver != "psycopg":
            result = session.execute(self.statement, dict(params))
            return [tuple(row) for row in result] if result.returns_rows else []
        if session.autoflush:  # what the session holds unwritten must be seen, as in `execute`
            session.flush()
        compiled = self._compiled or self._compile(connection.dialect)
        values = self._values(compiled, params)
        dbapi_error = connection.dialect.loaded_dbapi.Error
        try:
            with connection.connection.cursor() as cursor:
                cursor.execute(compiled.sql, values)
                if not self._returns:
                    return []
                found = cursor.fetchall()
                processors = self._result_processors or self._processors(connection, cursor)
        except dbapi_error as error:
            raise self._wrapped(connection, compiled.sql, values, error) from error
        if not any(processors):
            return found
        return [tuple(value if process is None else process(value)
                      for process, value in zip(processors, row, strict=True))
                for row in found]

    @staticmethod
    def _values(compiled: _Compiled, params: Mapping[str, object]) -> dict[str, object]:
        missing = compiled.required - params.keys()
        if missing:
            raise exc.InvalidRequestError(f"A value is required for bind parameter "
                                          f"{sorted(missing)[0]!r}")
        values = {**compiled.defaults, **params}
        for name, process in compiled.bind_processors:
            try:
                values[name] = process(values[name])
            except Exception as error:  # as SQLAlchemy wraps what a type's processor raises
                raise exc.StatementError(str(error), compiled.sql, params, error) from error
        return values

    def _processors(self, connection: Connection, cursor) -> tuple[Callable | None, ...]:
        dialect = connection.dialect
        self._result_processors = tuple(
            column.type.dialect_impl(dialect).result_processor(dialect, described.type_code)
            for column, described in zip(self._returns, cursor.description, strict=True))
        return self._result_processors

    @staticmethod
    def _wrapped(connection: Connection, sql: str, values: dict, error: Exception):
        """The driver's error as SQLAlchemy would raise it (IntegrityError…); a lost
        connection is not given back to the pool."""
        dialect = connection.dialect
        lost = dialect.is_disconnect(error, connection.connection.dbapi_connection, None)
        if lost:
            connection.invalidate(error)
        return exc.DBAPIError.instance(sql, values, error, dialect.loaded_dbapi.Error,
                                       connection_invalidated=lost, dialect=dialect)

    def _compile(self, dialect: Dialect) -> _Compiled:
        compiled = self.statement.compile(dialect=dialect)
        named = {name: bind for bind, name in compiled.bind_names.items()}
        # What SQLAlchemy changes in the SQL or the values as it executes is refused here.
        if (compiled.positional or compiled.escaped_bind_names
                or compiled.literal_execute_params or compiled.post_compile_params
                or any(bind.expanding or bind.callable for bind in named.values())):
            raise TypeError("only plain named parameters run on the driver (no expanding, "
                            "literal-execute, callable or escaped ones)")
        if compiled.insert_prefetch or compiled.update_prefetch:
            # SQLAlchemy computes these defaults in Python as it executes; give the values.
            raise TypeError("columns with Python-side defaults must be given values: "
                            + ", ".join(c.name for c in (*compiled.insert_prefetch,
                                                         *compiled.update_prefetch)))
        binds = {name: bind.type.dialect_impl(dialect).bind_processor(dialect)
                 for name, bind in named.items()}
        self._compiled = _Compiled(
            sql=compiled.string,
            defaults={name: bind.value for name, bind in named.items() if not bind.required},
            required=frozenset(name for name, bind in named.items() if bind.required),
            bind_processors=tuple((name, process) for name, process in binds.items()
                                  if process is not None))
        return self._compiled
