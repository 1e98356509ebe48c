"""The database: engine and sessions (`db`), the models, and the Alembic history (`migrations`,
run by `migrate`), one for SQLite and PostgreSQL."""
