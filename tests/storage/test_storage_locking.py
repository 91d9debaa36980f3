"""SQLite shared by several processes: a locked database waits, and fails clearly after the bound."""

from __future__ import annotations

import sqlite3
import threading
import time

import pytest
from sqlalchemy import select

from bot.storage import db as storage_db
from bot.storage import repository
from bot.storage.db import DatabaseBusyError, dispose_engines, session_scope
from bot.storage.migrate import upgrade
from bot.storage.models import ConsentRecord


@pytest.fixture
def sqlite_url(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'locked.db'}"
    upgrade(url)
    monkeypatch.setenv("DATABASE_URL", url)
    yield url, tmp_path / "locked.db"
    dispose_engines()


def _hold_write_lock(path) -> sqlite3.Connection:
    """Another process's writer: an open write transaction on the same file."""
    other = sqlite3.connect(path, isolation_level=None, timeout=0, check_same_thread=False)
    other.execute("BEGIN IMMEDIATE")
    other.execute("INSERT INTO erasure_log (erased_at) VALUES ('2025-01-01 00:00:00')")
    return other


def test_a_briefly_locked_database_waits_instead_of_failing(sqlite_url):
    url, path = sqlite_url
    other = _hold_write_lock(path)
    threading.Timer(0.8, other.commit).start()
    started = time.monotonic()
    repository.record_consent("p-wait", scope="screening", given=True)
    assert time.monotonic() - started >= 0.5
    with session_scope(url) as session:
        assert session.execute(select(ConsentRecord.pseudonym)).scalars().all() == ["p-wait"]
    other.close()


def test_a_database_locked_too_long_raises_a_clear_error(sqlite_url, monkeypatch):
    url, path = sqlite_url
    dispose_engines()
    monkeypatch.setenv("SCROLLCHECK_SQLITE_BUSY_MS", "100")
    monkeypatch.setattr(storage_db, "LOCKED_RETRIES", 2)
    monkeypatch.setattr(storage_db, "LOCKED_RETRY_PAUSE_S", 0.05)
    other = _hold_write_lock(path)
    try:
        started = time.monotonic()
        with pytest.raises(DatabaseBusyError, match="record_consent"):
            repository.record_consent("p-busy", scope="screening", given=True)
        assert time.monotonic() - started < 5
    finally:
        other.rollback()
        other.close()
    with session_scope(url) as session:
        assert session.execute(select(ConsentRecord)).scalars().all() == []


def test_concurrent_writers_from_threads_all_succeed(sqlite_url):
    url, _ = sqlite_url
    repository.record_consent("p-many", scope="screening", given=True)
    errors = []

    def write(i: int) -> None:
        try:
            repository.record_topic_summary(
                "p-many",
                checkin_id=f"c-{i % 3}",
                topic="fomo",
                score=2.0,
                band="some",
                answers={"fomo_1": 2, "fomo_2": 2, "fomo_3": 2},
                elevated=[],
                skipped=[],
                age_band=None,
                country=None,
                language=None,
            )
        except Exception as error:  # collected and asserted below
            errors.append(error)

    threads = [threading.Thread(target=write, args=(i,)) for i in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    from bot.storage.models import CheckIn

    with session_scope(url) as session:
        assert sorted(session.execute(select(CheckIn.checkin_id)).scalars()) == [
            "c-0",
            "c-1",
            "c-2",
        ]
