"""Migrations on SQLite and PostgreSQL: create every table, are idempotent, match the models."""

from __future__ import annotations

import os
import subprocess
import sys

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine, inspect, text

from bot.storage.db import get_engine
from bot.storage.migrate import alembic_config, current_revision, head_revision, is_current, upgrade
from bot.storage.models import Base
from tests.storage.databases import table_names
from tests.storage.rasa_trackers import dispose, rasa_sql_store, save_conversation

OUR_TABLES = sorted(Base.metadata.tables)


def test_upgrade_creates_every_table_and_records_the_revision(empty_db):
    assert table_names(empty_db) == []
    assert not is_current(empty_db)
    upgrade(empty_db)
    assert table_names(empty_db) == sorted(OUR_TABLES + ["alembic_version"])
    assert current_revision(empty_db) == head_revision() == "0001"
    assert is_current(empty_db)


def test_upgrade_twice_is_a_no_op(empty_db):
    upgrade(empty_db)
    with get_engine(empty_db).begin() as connection:
        connection.execute(text("INSERT INTO erasure_log (erased_at) VALUES (CURRENT_TIMESTAMP)"))
    upgrade(empty_db)
    with get_engine(empty_db).connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM erasure_log")).scalar_one() == 1


def test_models_and_migrations_agree(db):
    """A model change without a migration (or the reverse) fails here."""
    with get_engine(db).connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        diff = [d for d in compare_metadata(context, Base.metadata) if not _is_rasa(d)]
    assert diff == []


def _is_rasa(change) -> bool:
    return (
        isinstance(change, tuple)
        and len(change) > 1
        and getattr(change[1], "name", None) == "events"
    )


def test_migrations_leave_rasas_events_table_alone(empty_db, tmp_path):
    store = rasa_sql_store(empty_db, tmp_path)  # Rasa may start first and create `events`
    save_conversation(store, "someone")
    dispose(store)
    upgrade(empty_db)
    from alembic import command

    command.downgrade(alembic_config(empty_db), "base")
    assert table_names(empty_db) == ["alembic_version", "events"]
    upgrade(empty_db)
    engine = create_engine(empty_db, future=True)
    with engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM events")).scalar_one() == 7
    engine.dispose()


def test_sqlite_runs_in_wal_mode_with_a_busy_timeout(tmp_path):
    url = f"sqlite:///{tmp_path / 'wal.db'}"
    upgrade(url)
    with get_engine(url).connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar_one() == "wal"
        assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar_one() >= 1000
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar_one() == 1


def test_migrate_command_applies_and_reports(empty_db):
    env = {**os.environ, "DATABASE_URL": empty_db}
    command = [sys.executable, "-m", "bot.cli", "migrate"]
    first = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
    assert first.returncode == 0, first.stderr
    assert "schema at revision 0001" in first.stdout
    again = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
    assert again.returncode == 0, again.stderr
    check = subprocess.run(
        command + ["--check"], env=env, capture_output=True, text=True, timeout=120
    )
    assert check.returncode == 0 and "at 0001, newest 0001" in check.stdout
    assert set(OUR_TABLES) <= set(inspect(get_engine(empty_db)).get_table_names())


def test_migrate_command_fails_clearly_on_an_unreachable_database():
    env = {**os.environ, "DATABASE_URL": "postgresql://nobody:secret-pw@127.0.0.1:1/none"}
    result = subprocess.run(
        [sys.executable, "-m", "bot.cli", "migrate"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 1
    assert "scrollcheck migrate: failed" in result.stderr and "OperationalError" in result.stderr
    assert "secret-pw" not in result.stderr + result.stdout
