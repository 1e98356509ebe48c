"""Alembic environment: the app's engine and metadata, one history for SQLite and PostgreSQL."""

from alembic import context

from bot import models  # noqa: F401  (registers the tables on the metadata)
from bot.db import Base

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    # SQLite cannot ALTER most things; batch mode rebuilds the table instead.
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
