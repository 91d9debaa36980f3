"""tracker_store_endpoint(): the endpoints.yml section that makes Rasa use our database."""

from __future__ import annotations

import os

import pytest
from sqlalchemy import text

from bot.storage.db import TRACKER_STORE_CLASS, database_url, get_engine, tracker_store_endpoint
from tests.storage.rasa_trackers import dispose, rasa_sql_store, save_conversation


def test_sqlite_endpoint_uses_an_absolute_path(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert tracker_store_endpoint("sqlite:///var/x.db") == {
        "type": TRACKER_STORE_CLASS,
        "dialect": "sqlite",
        "db": str(tmp_path / "var" / "x.db"),
    }


def test_postgres_endpoint_carries_host_port_credentials_and_options():
    endpoint = tracker_store_endpoint(
        "postgresql://bot:p%40ss@db.internal:6543/scroll?sslmode=require"
    )
    assert endpoint == {
        "type": TRACKER_STORE_CLASS,
        "dialect": "postgresql",
        "db": "scroll",
        "url": "db.internal",
        "port": 6543,
        "username": "bot",
        "password": "p@ss",
        "query": {"sslmode": "require"},
    }


def test_default_url_is_sqlite_under_var(monkeypatch):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    assert database_url().startswith("sqlite:///") and database_url().endswith("var/scrollcheck.db")
    with pytest.raises(ValueError):
        tracker_store_endpoint("sqlite://")


def test_rasa_writes_its_tracker_into_our_database(db, tmp_path):
    store = rasa_sql_store(db, tmp_path)
    save_conversation(store, "pseudo-endpoint")
    dispose(store)
    with get_engine(db).connect() as connection:
        count = connection.execute(
            text("SELECT count(*) FROM events WHERE sender_id = 'pseudo-endpoint'")
        ).scalar_one()
    assert count == 7
    assert os.environ["DATABASE_URL"] == db
