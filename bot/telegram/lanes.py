"""Per-chat lanes: strict order inside a chat, concurrency across chats, a flood slowed per chat.

Every update is turned into a job and put in its chat's lane *synchronously*, in the order the
updates arrive (the Application processes updates one by one and our handlers only enqueue, so the
arrival order is the order of the lane). One worker task per busy lane runs its jobs one after the
other; lanes of different chats run concurrently. An idle lane is dropped.

Why not a per-chat asyncio.Lock with `concurrent_updates`: every waiting handler would hold one of
the Application's concurrency slots while it waits for its chat's lock, so one chat with a backlog
of a few hundred messages would occupy all slots and stall every other chat. Here a handler returns
as soon as its job is queued, and the order of a chat is the arrival order by construction, without
depending on how tasks are scheduled.

Flood control, per lane: a token bucket (burst, then `per_second`) paces the jobs of a chat that
sends too fast, and at most `max_pending` jobs wait; the caller decides what to do with the rest
(see `is_full`). Neither touches other chats' lanes.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Awaitable, Callable, Coroutine, Deque, Dict, Optional

logger = logging.getLogger(__name__)

Job = Callable[[], Awaitable[None]]
Spawn = Callable[[Coroutine], "asyncio.Task"]

DEFAULT_MAX_PENDING = 20
DEFAULT_BURST = 10
DEFAULT_PER_SECOND = 1.0


class TokenBucket:
    """`burst` tokens, refilled at `per_second`; `wait()` takes one, sleeping until there is one."""

    def __init__(
        self, burst: float, per_second: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.burst = burst
        self.per_second = per_second
        self._clock = clock
        self._tokens = burst
        self._updated = clock()

    def try_take(self) -> float:
        """Take a token and return 0, or return the seconds until one is available (taking none)."""
        now = self._clock()
        self._tokens = min(self.burst, self._tokens + (now - self._updated) * self.per_second)
        self._updated = now
        if self._tokens >= 1:
            self._tokens -= 1
            return 0.0
        return (1 - self._tokens) / self.per_second

    async def wait(self) -> None:
        while (delay := self.try_take()) > 0:
            await asyncio.sleep(delay)


@dataclass
class _Lane:
    bucket: TokenBucket
    jobs: Deque[Job] = field(default_factory=deque)
    flood_noticed: bool = False


class ChatLanes:
    """Lanes keyed by pseudonym (never by a raw chat id)."""

    def __init__(
        self,
        spawn: Optional[Spawn] = None,
        *,
        max_pending: int = DEFAULT_MAX_PENDING,
        burst: float = DEFAULT_BURST,
        per_second: float = DEFAULT_PER_SECOND,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._spawn = spawn or asyncio.create_task
        self.max_pending = max_pending
        self._burst = burst
        self._per_second = per_second
        self._clock = clock
        self._lanes: Dict[str, _Lane] = {}

    def pending(self, key: str) -> int:
        lane = self._lanes.get(key)
        return len(lane.jobs) if lane else 0

    def is_full(self, key: str) -> bool:
        return self.pending(key) >= self.max_pending

    def first_overflow(self, key: str) -> bool:
        """True once per busy period of a lane: the moment to tell the user to slow down."""
        lane = self._lanes.get(key)
        if lane is None or lane.flood_noticed:
            return False
        lane.flood_noticed = True
        return True

    def active_lanes(self) -> int:
        return len(self._lanes)

    def submit(self, key: str, job: Job) -> None:
        """Queue `job` behind the chat's earlier jobs (no await: order is the order of calls)."""
        lane = self._lanes.get(key)
        if lane is None:
            lane = self._lanes[key] = _Lane(TokenBucket(self._burst, self._per_second, self._clock))
            lane.jobs.append(job)
            self._spawn(self._run(key, lane))
        else:
            lane.jobs.append(job)

    async def _run(self, key: str, lane: _Lane) -> None:
        try:
            while lane.jobs:
                await lane.bucket.wait()
                try:
                    await lane.jobs[0]()
                except Exception as exc:  # jobs report their own errors; this is the last net
                    logger.error(
                        "chat job failed for %s: %s", key, type(exc).__name__, exc_info=True
                    )
                finally:
                    lane.jobs.popleft()
        finally:
            # No await between the last check of lane.jobs and this line, so no job is stranded.
            if self._lanes.get(key) is lane:
                del self._lanes[key]
