"""The database: engine, sessions and the declarative base with its naming convention."""

from __future__ import annotations

import select
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from functools import cache
from typing import TypeVar

from flask import current_app
from sqlalchemy import (
    DateTime,
    MetaData,
    Table,
    TypeDecorator,
    bindparam,
    create_engine,
    event,
    exc,
    text,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine
from sqlalchemy.orm import (
    DeclarativeBase,
    Session,
    configure_mappers,
    make_transient_to_detached,
    sessionmaker,
)
from sqlalchemy.orm.attributes import instance_dict

Model = TypeVar("Model", bound="Base")

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator):
    """Aware datetimes in UTC on both databases (SQLite would hand back naive ones)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect):
        if value is not None and value.tzinfo is None:
            raise ValueError("naive datetime: pass an aware one (UTC)")
        return value.astimezone(UTC) if value is not None else None

    def process_result_value(self, value: datetime | None, dialect):
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: UTCDateTime}


def persistent(session: Session, model: type[Model], row: Sequence) -> Model:
    """`row` — `model`'s table's columns in order, read with Core — as the session's object, as
    if the session had loaded it, without the ORM's per-query loading set-up, which costs about
    as much CPU as a statement (on the rows the webhook reads on most events). An object the
    session already has for the row is returned as it is, as the ORM's loading does."""
    keys, primary_key = _layout(model)
    mapper = model.__mapper__
    already = session.identity_map.get(
        mapper.identity_key_from_primary_key([row[i] for i in primary_key]))
    if already is not None:
        return already
    instance = mapper.class_manager.new_instance()
    instance_dict(instance).update(zip(keys, row, strict=True))
    make_transient_to_detached(instance)  # the values count as loaded, not as changes
    session.add(instance)
    return instance


def set_changed(instance: Base, values: Mapping[str, object]) -> bool:
    """Set the attributes whose value differs; True if any did. A value set again unchanged
    would still make the session flush at commit, which costs as much CPU as a statement."""
    changed = False
    for name, value in values.items():
        if getattr(instance, name) != value:
            setattr(instance, name, value)
            changed = True
    return changed


@cache
def _layout(model: type[Base]) -> tuple[tuple[str, ...], tuple[int, ...]]:
    """The attribute of each of the table's columns, in order, and where the primary key is."""
    configure_mappers()  # a new process may build objects before its first ORM query
    mapper, columns = model.__mapper__, list(model.__table__.c)
    return (tuple(mapper.get_property_by_column(column).key for column in columns),
            tuple(columns.index(column) for column in mapper.primary_key))


def normalise_url(url: str) -> str:
    """Platforms hand out `postgres://…`; SQLAlchemy wants the psycopg 3 dialect spelled out."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def make_engine(url: str) -> Engine:
    url = normalise_url(url)
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})
        _serialise_sqlite_writers(engine)
        return engine
    engine = create_engine(url, pool_recycle=POOL_RECYCLE_SECONDS)
    _discard_closed_connections(engine)
    return engine


#: Connections older than this are replaced: a firewall may drop idle ones without a word.
POOL_RECYCLE_SECONDS = 1800


def _discard_closed_connections(engine: Engine) -> None:
    """A pooled PostgreSQL connection the server has closed is replaced before it is used.

    An idle connection receives nothing unless the server ends it (a restart,
    pg_terminate_backend, idle_session_timeout): its socket is then readable, which one
    non-blocking poll shows. This replaces `pool_pre_ping`, whose `SELECT 1` cost a round
    trip to the database on every checkout (every webhook event).
    """

    @event.listens_for(engine, "checkout")
    def on_checkout(dbapi_connection, _record, _proxy):
        if dbapi_connection.closed:
            raise exc.DisconnectionError("this pooled connection is closed")
        poll = select.poll()
        poll.register(dbapi_connection.pgconn.socket, select.POLLIN)
        if poll.poll(0):
            raise exc.DisconnectionError("the server closed this pooled connection")


def _serialise_sqlite_writers(engine: Engine) -> None:
    """SQLite has no row locks: take the write lock when a transaction begins instead.

    Every transaction starts with BEGIN IMMEDIATE, so two webhook threads never read the
    same conversation state and then both write it (SQLAlchemy's documented recipe).
    """

    @event.listens_for(engine, "connect")
    def on_connect(dbapi_connection, _record):
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def on_begin(connection):
        connection.exec_driver_sql("BEGIN IMMEDIATE")


class Database:
    """One per app: `app.extensions["db"]`."""

    def __init__(self, url: str):
        self.url = normalise_url(url)
        self.engine = make_engine(self.url)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A session whose work commits together or not at all."""
        with self.sessions() as session, session.begin():
            yield session

    def ping(self) -> None:
        with self.engine.connect() as connection:
            connection.execute(text("SELECT 1"))

    def dispose(self) -> None:
        self.engine.dispose()


def database(app=None) -> Database:
    return (app or current_app).extensions["db"]


def dialect_insert(dialect: str):
    """This database's INSERT, which has ON CONFLICT on both (PostgreSQL and SQLite)."""
    return postgresql.insert if dialect == "postgresql" else sqlite.insert


@cache
def insert_once(table: Table, dialect: str):
    """INSERT of a row (every column a bind parameter named after it) that does nothing if
    its primary key is there already; it returns the key only when this statement wrote it.
    Built once per table and database kind: a webhook event runs one."""
    [key] = table.primary_key.columns
    return (dialect_insert(dialect)(table)
            .values({column.name: bindparam(column.name) for column in table.columns})
            .on_conflict_do_nothing(index_elements=[key])
            .returning(key))
