"""bot.telegram.inbox on its own (fast, no Rasa): what it keeps, for how long, and that an update
fetched again after a crash is not handled twice."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from pathlib import Path

import pytest
from telegram import Bot, Update

from bot.telegram.inbox import MAX_AGE_SECONDS, Inbox, InboxInUse, JournalingQueue, bot_key
from tests.telegram.harness import distinctive_user


def update(update_id: int, text: str = "sometimes") -> Update:
    user = distinctive_user()
    data = {
        "update_id": update_id,
        "message": {
            "message_id": update_id,
            "date": int(time.time()),
            "text": text,
            "chat": user.as_private_chat(),
            "from": user.as_user(),
        },
    }
    return Update.de_json(data, Bot("0:stand-in-not-a-real-token"))


def test_kept_until_done_without_names_and_replayed_once(tmp_path: Path) -> None:
    path = tmp_path / "inbox.db"
    inbox = Inbox(path)
    queue = JournalingQueue(inbox)
    first, second = update(101), update(102, "often")
    queue.put_nowait(first)
    queue.put_nowait(second)
    inbox.done(101)
    raw = b"".join(p.read_bytes() for p in tmp_path.iterdir())  # the file and any journal beside it
    assert (
        second.effective_user.first_name.encode() not in raw
        and second.effective_user.username.encode() not in raw
    )
    assert b'"often"' in raw, "the unanswered update is on disk"
    assert b'"sometimes"' not in raw and str(first.effective_chat.id).encode() not in raw, (
        "an answered one is gone"
    )
    inbox.close()

    # A new process: what is left is queued again, and the same update fetched again is skipped.
    inbox = Inbox(path)
    queue = JournalingQueue(inbox)
    assert asyncio.run(queue.replay(Bot("0:stand-in-not-a-real-token"))) == 1
    queue.put_nowait(
        update(102, "often")
    )  # Telegram sends it again: the dead process never confirmed it
    queue.put_nowait(update(103, "rarely"))
    handed = [queue.get_nowait() for _ in range(queue.qsize())]
    assert [(u.update_id, u.effective_message.text) for u in handed] == [
        (102, "often"),
        (103, "rarely"),
    ]
    assert handed[0].effective_chat.id == second.effective_chat.id  # still answerable


def test_stale_rows_are_dropped(tmp_path: Path) -> None:
    inbox = Inbox(tmp_path / "inbox.db")
    inbox.record(update(7))
    with sqlite3.connect(tmp_path / "inbox.db") as connection:
        connection.execute(
            "UPDATE pending_updates SET received = ?", (time.time() - MAX_AGE_SECONDS - 1,)
        )
    assert inbox.pending() == []


def test_one_process_per_file_and_no_other_bots_updates(tmp_path: Path) -> None:
    path = tmp_path / "inbox.db"
    first = Inbox(path, bot_key("0:token-a", "http://127.0.0.1:1/bot"))
    with pytest.raises(InboxInUse):
        Inbox(path, bot_key("0:token-a", "http://127.0.0.1:1/bot"))
    first.record(update(9))
    first.close()
    assert Inbox(path, bot_key("0:token-b", "http://127.0.0.1:1/bot")).pending() == []
