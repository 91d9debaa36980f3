"""Every dialogue test writes to its own migrated SQLite database, never to var/."""

from __future__ import annotations

import shutil

import pytest


@pytest.fixture(scope="session")
def migrated_template(tmp_path_factory):
    from bot.storage.migrate import upgrade

    path = tmp_path_factory.mktemp("template") / "scrollcheck.db"
    upgrade(f"sqlite:///{path}")
    return path


@pytest.fixture(autouse=True)
def database(tmp_path, monkeypatch, migrated_template):
    path = tmp_path / "scrollcheck.db"
    shutil.copy(migrated_template, path)  # migrating once and copying keeps the suite fast
    url = f"sqlite:///{path}"
    monkeypatch.setenv("DATABASE_URL", url)
    yield url
