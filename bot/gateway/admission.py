"""Admission: at most N turns at Rasa at once; the rest wait here, in arrival order.

Why: Rasa works on one turn at a time on its CPU, so every extra request in flight only makes all
of them slower. Without a bound, overload pushed each turn past the gateway's 10 s timeout; Rasa
then finished the abandoned turns anyway (NLU, policies and actions had run), so the work was
wasted and the user's answer was or was not saved by chance, and throughput fell as load rose.
With a bound, a turn waits *here* (the user has had the busy note within 1.5 s), costs nothing
while it waits, and once admitted gets Rasa's full attention and the whole timeout. A turn that
waits longer than `max_wait` is not sent at all: its user gets the fail-safe instead of an answer
that would come too late to follow.
"""

from __future__ import annotations

import asyncio
import time
from contextlib import asynccontextmanager
from typing import AsyncIterator, Callable

DEFAULT_IN_FLIGHT = 8  # per front-end process; measured with benchmarks/full_path.py
DEFAULT_MAX_WAIT_SECONDS = 45.0


class QueueTimeout(Exception):
    """The turn waited longer than `max_wait` for a slot and was not sent to Rasa."""


class Admission:
    def __init__(
        self,
        limit: int = DEFAULT_IN_FLIGHT,
        *,
        max_wait: float = DEFAULT_MAX_WAIT_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if limit < 1:
            raise ValueError("at least one turn must be allowed at Rasa")
        self.limit = limit
        self.max_wait = max_wait
        self._clock = clock
        self._slots = asyncio.Semaphore(limit)
        self.in_flight = 0
        self.waiting = 0
        self.peak_waiting = 0  # for benchmarks and tests
        self.expired = 0  # turns given up in the queue

    @asynccontextmanager
    async def slot(self) -> AsyncIterator[float]:
        """Hold one of the slots; yields how long the turn waited for it (seconds)."""
        started = self._clock()
        self.waiting += 1
        self.peak_waiting = max(self.peak_waiting, self.waiting)
        try:
            await asyncio.wait_for(self._slots.acquire(), self.max_wait)
        except asyncio.TimeoutError:
            self.expired += 1
            raise QueueTimeout() from None
        finally:
            self.waiting -= 1
        self.in_flight += 1
        try:
            yield self._clock() - started
        finally:
            self.in_flight -= 1
            self._slots.release()
