"""Updates taken from Telegram but not yet answered, kept on disk until they are.

Why: Telegram forgets an update once a getUpdates call with a higher offset confirms it, and PTB
confirms everything it fetched with its very next long poll, long before a chat's lane has answered
(a Rasa turn takes up to seconds). A front end killed in between leaves those messages unanswered
for good (tests/crash/test_kill_gateway.py). Messages sent while the front end is down are not at
risk: Telegram keeps them and the next start fetches them (drop_pending_updates stays off).

How: the Application's update queue (`JournalingQueue`) writes each update here before PTB can
confirm it (PTB puts every fetched update into the queue first, in webhook mode as well); the
chat's lane deletes it when its job is done, the front end at once for an update it gives no job;
the next start hands what is left to the handlers again, in order, before it polls
(`TelegramFrontEnd.post_init`). An update fetched again because the dead process never confirmed it
is not handled twice.

At least once, not exactly once: a process killed after the reply went out and before the row was
deleted sends that message to Rasa again (a window of milliseconds, where it was a whole turn).
Privacy: rows hold the update without names or usernames, only until it is answered; deleted rows
are overwritten (secure_delete); rows older than MAX_AGE_SECONDS are dropped unanswered at start.
One process per file (an exclusive lock; a second one gets `InboxInUse`), and rows are kept per
bot (token and API URL), so a file never replays another bot's updates.
"""

from __future__ import annotations

import asyncio
import fcntl
import hashlib
import json
import logging
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any, Dict, List, Set

from telegram import Update

logger = logging.getLogger(__name__)

INBOX_FILE = "telegram-inbox.db"
MAX_AGE_SECONDS = 24 * 3600.0  # as long as Telegram itself keeps an unconfirmed update
_NAME_KEYS = ("last_name", "username")


def _without_names(value: Any) -> Any:
    """The update as JSON, minus names (PTB needs a first_name, so it becomes empty)."""
    if isinstance(value, dict):
        cleaned = {k: _without_names(v) for k, v in value.items() if k not in _NAME_KEYS}
        if "first_name" in cleaned:
            cleaned["first_name"] = ""
        return cleaned
    if isinstance(value, list):
        return [_without_names(v) for v in value]
    return value


class InboxInUse(RuntimeError):
    """Another live process has this inbox open."""


def bot_key(token: str, base_url: str = "") -> str:
    """Which bot a row belongs to, without keeping the token."""
    return hashlib.sha256(f"{base_url}|{token}".encode()).hexdigest()[:16]


class Inbox:
    """One SQLite file, used by one front-end process (its event loop thread)."""

    def __init__(self, path: Path, bot: str = "") -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.bot = bot
        self._lock = threading.Lock()
        self._owner = open(
            path.with_name(path.name + ".lock"), "a"
        )  # held while this process lives
        try:
            fcntl.flock(self._owner, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            self._owner.close()
            raise InboxInUse(f"{path} is in use by another process") from None
        self._db = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False)
        # A commit is in the OS's file cache at once, so it survives the process being killed (not
        # a power cut) without an fsync per message. No WAL: its old frames would keep a deleted
        # row's text on disk until a checkpoint; secure_delete zeroes the row in the file itself.
        for pragma in ("journal_mode = TRUNCATE", "synchronous = OFF", "secure_delete = ON"):
            self._db.execute(f"PRAGMA {pragma}")
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS pending_updates (bot TEXT NOT NULL, update_id INTEGER NOT NULL, "
            "received REAL NOT NULL, data TEXT NOT NULL, PRIMARY KEY (bot, update_id))"
        )
        path.chmod(0o600)

    def record(self, update: Update) -> None:
        data = json.dumps(_without_names(update.to_dict()))
        with self._lock:
            self._db.execute(
                "INSERT OR IGNORE INTO pending_updates VALUES (?, ?, ?, ?)",
                (self.bot, update.update_id, time.time(), data),
            )

    def done(self, update_id: int) -> None:
        with self._lock:
            self._db.execute(
                "DELETE FROM pending_updates WHERE bot = ? AND update_id = ?", (self.bot, update_id)
            )

    def pending(self) -> List[Dict[str, Any]]:
        """What a previous process left unanswered, oldest first (stale rows are dropped)."""
        with self._lock:
            stale = self._db.execute(
                "DELETE FROM pending_updates WHERE received < ?", (time.time() - MAX_AGE_SECONDS,)
            ).rowcount
            rows = self._db.execute(
                "SELECT data FROM pending_updates WHERE bot = ? ORDER BY update_id", (self.bot,)
            ).fetchall()
        if stale:
            logger.warning("dropped %d unanswered updates older than a day", stale)
        return [json.loads(data) for (data,) in rows]

    def close(self) -> None:
        with self._lock:
            self._db.close()
            self._owner.close()  # releases the lock


class JournalingQueue(asyncio.Queue):
    """PTB's update queue, writing each update to the inbox before PTB can confirm it."""

    def __init__(self, inbox: Inbox) -> None:
        super().__init__()
        self.inbox = inbox
        self.replayed: Set[int] = set()

    def put_nowait(self, item: Any) -> None:  # asyncio.Queue.put ends here too
        if isinstance(item, Update):
            if item.update_id in self.replayed:
                return  # fetched again: the process that died had not confirmed it; replayed already
            try:
                self.inbox.record(item)
            except sqlite3.Error as exc:  # the message is still answered, just not crash-safe
                logger.error("inbox write failed: %s", type(exc).__name__, exc_info=True)
        super().put_nowait(item)

    async def replay(self, bot: Any) -> int:
        """Queue what the inbox holds, before any newly fetched update; returns how many."""
        count = 0
        for data in self.inbox.pending():
            update = Update.de_json(data, bot)
            if update is None:
                continue
            super().put_nowait(update)
            self.replayed.add(update.update_id)
            count += 1
        return count
