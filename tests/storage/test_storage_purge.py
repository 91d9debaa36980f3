"""Retention: purge_trackers deletes Rasa events older than the retention, nothing newer."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys

import pytest

from bot.storage.purge import parse_duration, purge_trackers
from tests.storage.rasa_trackers import count_events, dispose, rasa_sql_store, save_conversation

DAY = 24 * 3600


def test_purge_deletes_only_old_tracker_rows(db, tmp_path):
    store = rasa_sql_store(db, tmp_path)
    save_conversation(store, "old-1", age_seconds=40 * DAY)
    save_conversation(store, "old-2", age_seconds=31 * DAY)
    save_conversation(store, "recent", age_seconds=29 * DAY)
    save_conversation(store, "today")
    dispose(store)

    assert purge_trackers(dt.timedelta(days=30)) == 14
    assert count_events(db, "old-1") == count_events(db, "old-2") == 0
    assert count_events(db, "recent") == 7 and count_events(db, "today") == 7
    assert purge_trackers(dt.timedelta(days=30)) == 0


def test_purge_command_with_a_retention_in_hours(db, tmp_path):
    store = rasa_sql_store(db, tmp_path)
    save_conversation(store, "yesterday", age_seconds=DAY)
    save_conversation(store, "just-now")
    dispose(store)
    env = {**os.environ, "DATABASE_URL": db}
    result = subprocess.run(
        [sys.executable, "-m", "bot.cli", "purge", "--older-than", "12h"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("deleted 7 tracker event(s) older than 12h")
    assert count_events(db, "yesterday") == 0 and count_events(db, "just-now") == 7


def test_purge_without_rasa_table_is_a_no_op(db):
    assert purge_trackers(dt.timedelta(minutes=45)) == 0


@pytest.mark.parametrize(
    "text, expected",
    [
        ("30d", dt.timedelta(days=30)),
        ("12h", dt.timedelta(hours=12)),
        ("45m", dt.timedelta(minutes=45)),
        ("2w", dt.timedelta(weeks=2)),
        (" 7D ", dt.timedelta(days=7)),
    ],
)
def test_durations(text, expected):
    assert parse_duration(text) == expected


@pytest.mark.parametrize("text", ["30", "0d", "-1d", "1y", "d30", "", "30 days"])
def test_bad_durations_are_refused(text):
    with pytest.raises(ValueError):
        parse_duration(text)


def test_purge_command_refuses_a_bad_duration():
    result = subprocess.run(
        [sys.executable, "-m", "bot.cli", "purge", "--older-than", "forever"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2 and "invalid duration" in result.stderr
