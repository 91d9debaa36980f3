"""Database connection: one engine per URL, SQLite tuned for several processes, session scope.

The Rasa server (its SQLTrackerStore), the action server and the review page all open the same
database. SQLite copes with that in WAL mode (readers never block the writer) with a busy timeout,
so a briefly locked database waits instead of failing; repository writes add a short retry on
top (see `retry_when_locked`) and raise `DatabaseBusyError` once the bound is spent.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from contextlib import contextmanager
from typing import Any, Callable, Dict, Iterator, Optional, TypeVar

from sqlalchemy import create_engine, event
from sqlalchemy.engine import URL, Engine, make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from bot import settings

log = logging.getLogger(__name__)

DEFAULT_SQLITE_NAME = "scrollcheck.db"  # under SCROLLCHECK_VAR_DIR (default var/)

# How long one SQLite statement waits for a lock before SQLite gives up (milliseconds).
SQLITE_BUSY_TIMEOUT_MS = settings.SQLITE_BUSY_MS.default
# Extra attempts on "database is locked" after SQLite's own wait, and the pause between them.
LOCKED_RETRIES = 3
LOCKED_RETRY_PAUSE_S = 0.2

T = TypeVar("T")


class StorageError(RuntimeError):
    """Base class for storage failures callers may want to handle."""


class DatabaseBusyError(StorageError):
    """The database stayed locked by another process for longer than the retry bound."""


def database_url() -> str:
    """The configured database URL: env DATABASE_URL, else SQLite under SCROLLCHECK_VAR_DIR (var/)."""
    return (
        settings.DATABASE_URL.get() or f"sqlite:///{settings.VAR_DIR.get() / DEFAULT_SQLITE_NAME}"
    )


def _normalised(url: Optional[str]) -> URL:
    parsed = make_url(url or database_url())
    # Heroku-style "postgres://" is not a dialect SQLAlchemy 1.4 knows.
    if parsed.drivername == "postgres":
        parsed = parsed.set(drivername="postgresql")
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        # One absolute path, so the Rasa tracker store and our engine open the same file
        # whatever directory each process was started from.
        parsed = parsed.set(database=os.path.abspath(parsed.database))
    return parsed


def is_sqlite(url: Optional[str] = None) -> bool:
    return _normalised(url).get_backend_name() == "sqlite"


def _busy_timeout_ms() -> int:
    return settings.SQLITE_BUSY_MS.get()


def _tune_sqlite(engine: Engine) -> None:
    busy_ms = _busy_timeout_ms()

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # pysqlite's own BEGIN handling defers locks badly; take control of transactions
        # (SQLAlchemy's documented recipe) so BEGIN is emitted when the session starts work.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(f"PRAGMA busy_timeout = {busy_ms}")
            cursor.execute("PRAGMA journal_mode = WAL")
            cursor.execute("PRAGMA synchronous = NORMAL")
            cursor.execute("PRAGMA foreign_keys = ON")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        # Writers take the write lock up front (BEGIN IMMEDIATE): a deferred transaction that
        # reads first and then writes cannot wait for the lock in WAL mode, it fails at once.
        immediate = connection.get_execution_options().get("scrollcheck_write", False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


_engines: Dict[str, Engine] = {}
_engines_lock = threading.Lock()


def get_engine(url: Optional[str] = None) -> Engine:
    """The process-wide engine for `url` (default: `database_url()`), created on first use."""
    parsed = _normalised(url)
    key = parsed.render_as_string(hide_password=False)
    with _engines_lock:
        engine = _engines.get(key)
        if engine is None:
            if parsed.get_backend_name() == "sqlite":
                if parsed.database not in (None, "", ":memory:"):
                    os.makedirs(os.path.dirname(parsed.database), exist_ok=True)
                engine = create_engine(
                    parsed,
                    future=True,
                    connect_args={"timeout": _busy_timeout_ms() / 1000, "check_same_thread": False},
                )
                _tune_sqlite(engine)
            else:
                engine = create_engine(parsed, future=True, pool_pre_ping=True)
            _engines[key] = engine
        return engine


def dispose_engines() -> None:
    """Close every cached engine (tests, and before a process forks)."""
    with _engines_lock:
        for engine in _engines.values():
            engine.dispose()
        _engines.clear()
        _sessionmakers.clear()


_sessionmakers: Dict[tuple, sessionmaker] = {}


@contextmanager
def session_scope(url: Optional[str] = None, *, write: bool = False) -> Iterator[Session]:
    """A session that commits on success and rolls back on any exception.

    `write=True` marks a read-modify-write transaction: on SQLite it takes the write lock when it
    begins, so it waits for (rather than collides with) another process's writer.
    """
    engine = get_engine(url)
    key = (id(engine), write)
    factory = _sessionmakers.get(key)
    if factory is None:
        bind = engine.execution_options(scrollcheck_write=True) if write else engine
        factory = _sessionmakers[key] = sessionmaker(bind=bind, future=True, expire_on_commit=False)
    session = factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def is_locked_error(error: BaseException) -> bool:
    """True for SQLite's "database is locked" / "database table is locked" / busy errors."""
    if not isinstance(error, OperationalError):
        return False
    message = str(getattr(error, "orig", error)).lower()
    return (
        "database is locked" in message
        or "database table is locked" in message
        or "database is busy" in message
    )


def retry_when_locked(operation: Callable[[], T], *, what: str) -> T:
    """Run a write transaction, retrying briefly while another process holds the SQLite lock.

    SQLite already waited `busy_timeout` inside each attempt; after LOCKED_RETRIES more attempts
    the caller gets a DatabaseBusyError naming the operation (never any data).
    """
    attempt = 0
    while True:
        try:
            return operation()
        except OperationalError as error:
            if not is_locked_error(error):
                raise
            attempt += 1
            if attempt > LOCKED_RETRIES:
                log.error("database stayed locked during %s after %d attempts", what, attempt)
                raise DatabaseBusyError(
                    f"the database stayed locked during {what} (another process holds a write lock); try again"
                ) from error
            log.warning("database locked during %s, retry %d of %d", what, attempt, LOCKED_RETRIES)
            time.sleep(LOCKED_RETRY_PAUSE_S * attempt)


# Rasa's SQLTrackerStore with retries, and a turn that says when it was not saved (see there).
TRACKER_STORE_CLASS = "bot.storage.tracker_store.RetryingSQLTrackerStore"


def tracker_store_endpoint(url: Optional[str] = None) -> Dict[str, Any]:
    """The `tracker_store:` section of endpoints.yml for Rasa's SQLTrackerStore on the same database.

    Rasa reads the host from the key `url` (it calls SQLTrackerStore(host=endpoint.url, ...)), so
    the host goes there; everything else is passed through as keyword arguments.
    """
    parsed = _normalised(url)
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        if parsed.database in (None, "", ":memory:"):
            raise ValueError(
                "an in-memory SQLite database cannot be shared with Rasa's tracker store"
            )
        return {"type": TRACKER_STORE_CLASS, "dialect": "sqlite", "db": parsed.database}
    if backend != "postgresql":
        raise ValueError(f"unsupported database backend {backend!r}: use sqlite or postgresql")
    endpoint: Dict[str, Any] = {
        "type": TRACKER_STORE_CLASS,
        "dialect": "postgresql",
        "db": parsed.database,
    }
    if parsed.host:
        endpoint["url"] = parsed.host
    if parsed.port:
        endpoint["port"] = parsed.port
    if parsed.username:
        endpoint["username"] = parsed.username
    if parsed.password:
        endpoint["password"] = parsed.password
    if parsed.query:
        endpoint["query"] = dict(parsed.query)
    return endpoint
