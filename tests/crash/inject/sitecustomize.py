"""Fault injection for tests/crash only: on the PYTHONPATH of the processes those tests start.

While the file named by SCROLLCHECK_TEST_SQLITE_FULL_FLAG exists, every new SQLite connection made
through SQLAlchemy may not grow the database file (PRAGMA max_page_count = its current size), so
a write that needs a new page fails with SQLite's own SQLITE_FULL, "database or disk is full".
SQLAlchemy 1.4 opens a new connection per session for a SQLite file (NullPool), so removing the
file makes the database "free" again for the next transaction. Nothing here runs in production:
the product never puts tests/crash/inject on its path.
"""

import os

_FLAG = os.environ.get("SCROLLCHECK_TEST_SQLITE_FULL_FLAG")

if _FLAG:
    try:
        import sqlite3

        from sqlalchemy import event
        from sqlalchemy.engine import Engine
    except Exception:  # noqa: BLE001 — a process without SQLAlchemy has nothing to inject into
        pass
    else:

        @event.listens_for(Engine, "connect")
        def _full_while_flagged(dbapi_connection, _record):  # type: ignore[no-untyped-def]
            if isinstance(dbapi_connection, sqlite3.Connection) and os.path.exists(_FLAG):
                pages = dbapi_connection.execute("PRAGMA page_count").fetchone()[0]
                dbapi_connection.execute(f"PRAGMA max_page_count = {max(int(pages), 1)}")
