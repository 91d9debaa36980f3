"""The database during an answer: locked by another connection, and full.

* A lock held for a few seconds: Rasa's tracker store retries and the answer is saved; the user
  sees the next question (perhaps after the "busy" note), nothing else.
* A lock held longer than the retry window, and a full database (SQLite's own SQLITE_FULL, see
  tests/crash/inject): the user is told their answer was not saved (data/safety/replies.yml,
  gateway.not_saved) and does NOT see the next question; the stored tracker still has that question
  open, so the answer sent again once the database is free lands on it. A risk message while the
  database is full still gets the crisis numbers.
At the end the topic summary holds all five answers.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path

import pytest

from bot.safety import detect
from bot.safety.replies import acuity_question, crisis_reply, not_saved, unavailable_reply
from tests.crash.harness import SCALE, Chat, CrashStack, question, start_comparison_checkin

pytestmark = pytest.mark.rasa

RISK_TEXT = "honestly i want to kill myself"
COUNTRY = "GB"


def exclusive_lock(db_path: Path) -> sqlite3.Connection:
    """Another connection holding SQLite's write lock (BEGIN EXCLUSIVE; readers go on in WAL mode)."""
    connection = sqlite3.connect(db_path, isolation_level=None, timeout=30, check_same_thread=False)
    connection.execute("BEGIN EXCLUSIVE")
    return connection


def log_count(stack: CrashStack, needle: str) -> int:
    return (stack.workdir / "rasa.log").read_text(errors="replace").count(needle)


def test_locked_and_full_database_answers_are_retried_or_refused_never_lost(
    crash_stack: CrashStack, chat: Chat
) -> None:
    start_comparison_checkin(chat, [])  # question 1 is open
    pseudonym = chat.pseudonym

    # 1. Locked for 2.5 s: the save waits and retries; the user just gets the next question.
    retries_before = log_count(crash_stack, "tracker save failed (locked)")
    lock = exclusive_lock(crash_stack.db_path)
    threading.Timer(2.5, lock.rollback).start()
    since = chat.press("Often")
    seen = chat.wait_for_text(since, question(2))
    assert seen == [t for t in seen if question(2) in t], seen
    assert crash_stack.tracker_slots(pseudonym).get("comparison_1") == 4
    short_lock_retries = log_count(crash_stack, "tracker save failed (locked)") - retries_before
    assert short_lock_retries >= 1, "the save met the lock and retried"
    lock.close()

    # 2. Locked for longer than the retry window: "not saved", the question stays open.
    lock = exclusive_lock(crash_stack.db_path)
    try:
        started = time.monotonic()
        since = chat.press("Rarely")
        seen = chat.wait_for_replies(since, 1, quiet=1.0)
        refused_after = time.monotonic() - started
        assert seen == [not_saved("en")]
        assert crash_stack.tracker_slots(pseudonym).get("comparison_2") is None
    finally:
        lock.rollback()
        lock.close()
    since = chat.send("rarely")  # typed again, once the database is free
    chat.wait_for_text(since, question(3))
    assert crash_stack.tracker_slots(pseudonym).get("comparison_2") == 2

    # 3. Full: "not saved" again; a risk message still gets the crisis numbers at once.
    full_before = log_count(crash_stack, "tracker save failed (full) after")
    crash_stack.full_flag.touch()
    try:
        since = chat.press("Sometimes")
        assert chat.wait_for_replies(since, 1, quiet=1.0) == [not_saved("en")]
        since = chat.send(RISK_TEXT)
        seen = chat.wait_for_text(since, acuity_question().text)
        expected = crisis_reply(detect(RISK_TEXT), COUNTRY)
        assert seen[: len(expected.messages)] == list(expected.messages)
        assert unavailable_reply(COUNTRY) not in seen and not_saved("en") not in seen
        since = chat.press("No")
        chat.wait_for_replies(since, 1)
        assert crash_stack.tracker_slots(pseudonym).get("comparison_3") is None
    finally:
        crash_stack.full_flag.unlink()
    full_failures = log_count(crash_stack, "tracker save failed (full) after") - full_before

    since = chat.send("sometimes")
    chat.wait_for_text(since, question(4))
    for number, title in ((4, "Often"), (5, "Very often")):
        since = chat.press(title)
        if number < 5:
            chat.wait_for_text(since, question(5))
        else:
            chat.wait_for_button(since, "Yes, share it")
    answers = {
        "comparison_1": 4,
        "comparison_2": 2,
        "comparison_3": SCALE["Sometimes"],
        "comparison_4": SCALE["Often"],
        "comparison_5": SCALE["Very often"],
    }
    slots = crash_stack.tracker_slots(pseudonym)
    assert {item: slots.get(item) for item in answers} == answers
    assert crash_stack.item_answers(pseudonym, "comparison") == answers
    print(
        f"\n[crash] database: a 2.5 s lock -> {short_lock_retries} save retries, answer saved; a long lock -> "
        f"'not saved' after {refused_after:.1f} s, answer sent again and saved; full -> {full_failures} turns "
        f"refused as 'not saved', 1 risk message got the crisis reply; 5/5 answers stored"
    )
