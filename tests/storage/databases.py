"""Throwaway databases for storage tests: a SQLite file per test, and one PostgreSQL database per
test run (`scrollcheck_test_<random>` on 127.0.0.1:5432, dropped at the end) reset per test."""

from __future__ import annotations

import secrets
import warnings
from contextlib import contextmanager
from typing import Iterator, Optional

from sqlalchemy import create_engine, inspect, text

PG_SERVER = "postgresql://postgres@127.0.0.1:5432/"
PG_ADMIN_DATABASES = ("test", "postgres")


def _admin_connection():
    import psycopg2

    last_error: Optional[Exception] = None
    for name in PG_ADMIN_DATABASES:
        try:
            connection = psycopg2.connect(
                host="127.0.0.1", port=5432, user="postgres", dbname=name, connect_timeout=3
            )
            connection.autocommit = True
            return connection
        except psycopg2.OperationalError as error:
            last_error = error
    raise ConnectionError(
        f"PostgreSQL at 127.0.0.1:5432 is unreachable: {type(last_error).__name__}: {last_error}".strip()
    )


@contextmanager
def throwaway_postgres() -> Iterator[str]:
    """Create `scrollcheck_test_<random>`, yield its URL, drop it afterwards."""
    name = f"scrollcheck_test_{secrets.token_hex(4)}"
    admin = _admin_connection()
    try:
        with admin.cursor() as cursor:
            cursor.execute(f'CREATE DATABASE "{name}"')
        try:
            yield PG_SERVER + name
        finally:
            from bot.storage.db import dispose_engines

            dispose_engines()
            with admin.cursor() as cursor:
                cursor.execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
                    (name,),
                )
                cursor.execute(f'DROP DATABASE IF EXISTS "{name}"')
    finally:
        admin.close()


def reset_postgres(url: str) -> None:
    """Empty the database between tests: drop and recreate the public schema."""
    from bot.storage.db import dispose_engines

    dispose_engines()
    engine = create_engine(url, future=True)
    with engine.begin() as connection:
        connection.execute(text("DROP SCHEMA public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
    engine.dispose()


def unreachable_reason() -> Optional[str]:
    try:
        _admin_connection().close()
        return None
    except ConnectionError as error:
        reason = f"{error} -- PostgreSQL storage tests SKIPPED"
        warnings.warn(reason, stacklevel=2)
        return reason


def table_names(url: str) -> list:
    engine = create_engine(url, future=True)
    try:
        return sorted(inspect(engine).get_table_names())
    finally:
        engine.dispose()
