"""Alembic environment for scrollcheck's tables (Rasa's `events` table is left to Rasa)."""

from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Connection

from bot.storage.db import database_url, get_engine
from bot.storage.models import Base

config = context.config
target_metadata = Base.metadata

# An arbitrary constant: PostgreSQL advisory lock that serialises concurrent `scrollcheck migrate`.
_PG_MIGRATION_LOCK = 7_310_905_512


def _include_object(obj, name, type_, reflected, compare_to):  # noqa: ANN001 - Alembic's hook signature
    # Tables that exist in the database but not in our models (Rasa's `events`) are not ours.
    if type_ == "table" and reflected and compare_to is None:
        return False
    return True


def _configure(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        include_object=_include_object,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )


def _run(connection: Connection) -> None:
    _configure(connection)
    with context.begin_transaction():
        if connection.dialect.name == "postgresql":
            connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_PG_MIGRATION_LOCK})")
        context.run_migrations()


def run_migrations_offline() -> None:
    context.configure(
        url=config.get_main_option("sqlalchemy.url") or database_url(),
        target_metadata=target_metadata,
        literal_binds=True,
        render_as_batch=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = get_engine(config.get_main_option("sqlalchemy.url") or None)
    # scrollcheck_write: on SQLite the migration takes the write lock first, so two processes
    # migrating at once run one after the other instead of colliding.
    with engine.execution_options(scrollcheck_write=True).connect() as connection:
        _run(connection)


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
