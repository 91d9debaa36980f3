"""Storage tests run twice: on SQLite and on PostgreSQL (a throwaway database per test run)."""

from __future__ import annotations

from typing import Iterator

import pytest

from bot.storage.db import dispose_engines
from tests.storage.databases import reset_postgres, throwaway_postgres, unreachable_reason


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    reason = unreachable_reason()
    if reason:
        pytest.skip(reason)
    with throwaway_postgres() as url:
        yield url


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def empty_db(request: pytest.FixtureRequest, tmp_path, monkeypatch) -> Iterator[str]:
    """An empty database URL (no tables), also set as DATABASE_URL for contract-style calls."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'scrollcheck.db'}"
    else:
        url = request.getfixturevalue("postgres_server")
        reset_postgres(url)
    monkeypatch.setenv("DATABASE_URL", url)
    yield url
    dispose_engines()


@pytest.fixture
def db(empty_db: str) -> str:
    """A migrated database URL."""
    from bot.storage.migrate import upgrade

    upgrade(empty_db)
    return empty_db
