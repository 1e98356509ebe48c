"""Fixtures as in flaskr's conftest: `app`, `client`, `runner`, plus the local LINE platform.

Every test gets a database of its own, migrated and holding the shipped entities:
SQLite by default, or PostgreSQL when TEST_DATABASE_URL names a server (a fresh database
per run, emptied between tests).
"""

from __future__ import annotations

import os
import shutil
import uuid

import pytest
from flask.testing import FlaskCliRunner
from sqlalchemy import create_engine, text

from bot.devtools.live_server import LiveServer
from bot.services import entities
from bot.store import migrate
from bot.store.db import Base, Database, normalise_url
from cli import cli as furusato
from tests.factories import Chat
from web import create_app

MUTABLE_TABLES = [t.name for t in reversed(Base.metadata.sorted_tables) if t.name != "entity"]


def _prepare(url: str) -> None:
    db = Database(url)
    migrate.upgrade(db)
    with db.transaction() as session:
        entities.load(session)
    db.dispose()


@pytest.fixture(scope="session")
def database_template(tmp_path_factory):
    """Migrated once per run; each test starts from a copy (SQLite) or a cleared database."""
    server = os.environ.get("TEST_DATABASE_URL")
    if not server:
        path = tmp_path_factory.mktemp("db") / "template.sqlite3"
        _prepare(f"sqlite:///{path}")
        yield ("sqlite", path)
        return
    server = normalise_url(server)
    name = f"furusato_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = server.rsplit("/", 1)[0] + "/" + name
    _prepare(url)
    yield ("postgresql", url)
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture
def database_url(database_template, tmp_path):
    kind, where = database_template
    if kind == "sqlite":
        copy = tmp_path / "test.sqlite3"
        shutil.copyfile(where, copy)
        return f"sqlite:///{copy}"
    engine = create_engine(where)
    with engine.begin() as connection:
        connection.execute(text("TRUNCATE " + ", ".join(MUTABLE_TABLES) + " CASCADE"))
        connection.execute(text(
            "UPDATE entity SET participating = false, required_activities = 3,"
            " renewal_mode = 'auto', community_url = NULL, community_premium_only = false"))
    engine.dispose()
    return where


@pytest.fixture
def app(database_url):
    app = create_app({"FURUSATO_ENV": "test", "DATABASE_URL": database_url})
    server = LiveServer(app)
    # The bot reaches the local LINE platform over real HTTP, as it would reach LINE.
    app.config["LINE_API_HOST"] = f"{server.url}/_dev/line"
    app.config["PUBLIC_BASE_URL"] = server.url
    app.live_url = server.url
    yield app
    server.stop()
    app.extensions["db"].dispose()


@pytest.fixture
def client(app):
    return app.test_client()


class FurusatoRunner(FlaskCliRunner):
    """Invokes the `furusato` command (not Flask's default `app.cli`) against the test app."""

    def invoke(self, cli=None, args=None, **kwargs):
        return super().invoke(cli or furusato, args, **kwargs)


@pytest.fixture
def runner(app):
    return FurusatoRunner(app)


@pytest.fixture
def line(app):
    """The local LINE platform behind the bot: profiles, recorded messages, injected faults."""
    return app.extensions["line_platform"]


@pytest.fixture
def db(app):
    return app.extensions["db"]


@pytest.fixture
def join(runner):
    """Make entities participate, as an operator would."""
    def join(*codes):
        result = runner.invoke(args=["entities", "join", *codes])
        assert result.exit_code == 0, result.output
    return join


@pytest.fixture
def chat(app, client, line):
    """A Japanese-speaking person who has just followed the account."""
    chat = Chat(app, client, line)
    chat.follow()
    return chat
