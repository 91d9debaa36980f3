"""Rasa's SQL tracker store, made to retry a locked or full database and to say when it gave up.

Why: Rasa wraps every tracker store in its FailSafeTrackerStore, which on a failed save logs the
error and keeps the tracker in memory only, and Rasa's REST channel then answers the turn as if all
went well. The young person sees the next question while their answer was never written, and the
next turn reads the old tracker: that answer is silently lost and the next one lands on the wrong
question. This store (named in endpoints.yml by `bot.storage.db.tracker_store_endpoint`):

* retries a read or a save that fails with an operational error (SQLite "database is locked" or
  "database or disk is full", a dropped PostgreSQL connection) for at most RETRY_SECONDS; a save
  is safe to repeat, because a failed transaction stored nothing and Rasa only writes the events the
  database does not have yet;
* when it still fails, marks the turn (`TurnStorage.failed`) before raising; the REST channel
  (`bot.gateway.rasa_channel`) answers such a turn with HTTP 507, and the gateway tells the user their
  answer was not saved, so they send it again to the same, still open, question.

SQLite waits `SQLITE_BUSY_SECONDS` per attempt for a lock (Rasa's engine would wait 5 s and block
its event loop all that time); the pauses between attempts do not block it.
Logs say what failed and how often, never the SQL (its parameters hold message texts).
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import time
from dataclasses import dataclass
from typing import Any, Awaitable, Callable, Optional, TypeVar

import sqlalchemy as sa
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.trackers import DialogueStateTracker
from sqlalchemy.exc import DisconnectionError, OperationalError

logger = logging.getLogger(__name__)

T = TypeVar("T")

# The whole retry window of one read or save; the gateway waits 10 s for a turn (its default),
# so a turn that gives up still answers (507) before the gateway's own timeout.
RETRY_SECONDS = 5.0
SQLITE_BUSY_SECONDS = 1.0
PAUSES = (0.25, 0.5, 1.0)  # then 1.0 each time

RETRYABLE = (OperationalError, DisconnectionError)


class TrackerStorageError(RuntimeError):
    """A read or save that still failed after the retries; its message names no data (Rasa logs it)."""


@dataclass
class TurnStorage:
    """Whether this turn's tracker could not be read or saved (one per Rasa request)."""

    failed: bool = False


_turn: contextvars.ContextVar[Optional[TurnStorage]] = contextvars.ContextVar(
    "scrollcheck_turn_storage", default=None
)


def watch_turn() -> TurnStorage:
    """Call at the start of a request; the store marks the returned object if it gives up.

    Rasa handles a message in the request's own task, so the store sees the same context.
    """
    storage = TurnStorage()
    _turn.set(storage)
    return storage


def failure_kind(error: BaseException) -> str:
    """A short, data-free name for a database failure (for logs)."""
    message = str(getattr(error, "orig", "") or "").lower()
    for needle, kind in (
        ("locked", "locked"),
        ("busy", "locked"),
        ("full", "full"),
        ("disk i/o", "disk i/o"),
    ):
        if needle in message:
            return kind
    return type(getattr(error, "orig", None) or error).__name__


class RetryingSQLTrackerStore(SQLTrackerStore):
    """SQLTrackerStore with bounded retries and a turn that knows when its tracker was not saved."""

    engine: sa.engine.Engine  # set by SQLTrackerStore.__init__ (unannotated there)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.engine.dialect.name == "sqlite":
            # Rasa's engine waits pysqlite's default 5 s per locked statement, blocking its loop.
            self.engine.dispose()
            self.engine = sa.create_engine(
                self.engine.url, connect_args={"timeout": SQLITE_BUSY_SECONDS}
            )
            self.sessionmaker = sa.orm.session.sessionmaker(bind=self.engine)

    async def save(self, tracker: DialogueStateTracker) -> None:
        await self._with_retries("save", lambda: super(RetryingSQLTrackerStore, self).save(tracker))

    async def _retrieve(
        self, sender_id: str, fetch_events_from_all_sessions: bool
    ) -> Optional[DialogueStateTracker]:
        return await self._with_retries(
            "read",
            lambda: super(RetryingSQLTrackerStore, self)._retrieve(
                sender_id, fetch_events_from_all_sessions
            ),
        )

    async def _with_retries(self, what: str, operation: Callable[[], Awaitable[T]]) -> T:
        deadline = time.monotonic() + RETRY_SECONDS
        attempt = 0
        while True:
            try:
                result = await operation()
                if attempt:
                    logger.warning("tracker %s succeeded after %d retries", what, attempt)
                return result
            except RETRYABLE as error:
                pause = PAUSES[min(attempt, len(PAUSES) - 1)]
                attempt += 1
                if time.monotonic() + pause > deadline:
                    logger.error(
                        "tracker %s failed (%s) after %d attempts: not saved",
                        what,
                        failure_kind(error),
                        attempt,
                    )
                    storage = _turn.get()
                    if storage is not None:
                        storage.failed = True
                    # Not chained: SQLAlchemy's message carries the SQL parameters (message texts).
                    raise TrackerStorageError(
                        f"tracker {what} failed ({failure_kind(error)})"
                    ) from None
                logger.warning(
                    "tracker %s failed (%s), retry %d", what, failure_kind(error), attempt
                )
                await asyncio.sleep(pause)
