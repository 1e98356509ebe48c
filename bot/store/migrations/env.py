"""Alembic environment: the app's engine and metadata, one history for SQLite and PostgreSQL."""

from alembic import context

from bot.store import models  # noqa: F401  (registers the tables on the metadata)
from bot.store.db import (
    Base,
    UTCDateTime,  # noqa: E402
)


def render_item(kind, item, autogen_context):
    """Write our UTC column type as the plain SQL type it stores, so migrations stand alone."""
    if kind == "type" and isinstance(item, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    # SQLite cannot ALTER most things; batch mode rebuilds the table instead.
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
    render_item=render_item,
)
with context.begin_transaction():
    context.run_migrations()
