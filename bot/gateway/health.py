"""Is the action server alive? Asked rarely, shared by every chat, never on the crisis path.

Rasa hides a dead action server: it logs the failed custom action, drops its events and carries
on, so the user gets [] or a misleading fallback ("Sorry, I didn't understand that"). rasa_sdk
serves GET /health beside its /webhook; the gateway asks it

* at most once per `ttl_up` seconds while it is up (and once per `ttl_down` while it is down),
  however many chats are talking: concurrent callers share one request in flight; a stale answer
  is refreshed in parallel with the message to Rasa, so it costs no latency;
* afresh whenever Rasa answers a message with nothing to show, which is what a dead action server
  usually looks like (for a risk message the gateway has already replied, so the check delays
  nothing the user is waiting for).

A fallback text within `ttl_up` seconds of the action server dying is passed through; the next
message after that learns it is down.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Callable, Optional
from urllib.parse import urlsplit, urlunsplit

import aiohttp

logger = logging.getLogger("bot.gateway")

HEALTH_TIMEOUT_SECONDS = 2.0
HEALTH_TTL_UP_SECONDS = 5.0
HEALTH_TTL_DOWN_SECONDS = 1.0


def action_health_url(action_url: str) -> str:
    """rasa_sdk serves GET /health on the host and port of its /webhook."""
    parts = urlsplit(action_url)
    return urlunsplit((parts.scheme, parts.netloc, "/health", "", ""))


class ActionHealth:
    def __init__(
        self,
        url: str,
        http: Callable[[], aiohttp.ClientSession],
        *,
        timeout: float = HEALTH_TIMEOUT_SECONDS,
        ttl_up: float = HEALTH_TTL_UP_SECONDS,
        ttl_down: float = HEALTH_TTL_DOWN_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.url = url
        self._http = http
        self.timeout = timeout
        self.ttl_up = ttl_up
        self.ttl_down = ttl_down
        self._clock = clock
        self._up: Optional[bool] = None
        self._checked_at = 0.0
        self._inflight: Optional["asyncio.Future[bool]"] = None
        self.requests = 0  # how many /health requests were made (for tests and benchmarks)

    def fresh(self) -> Optional[bool]:
        """The remembered answer while it is recent enough, else None."""
        if self._up is None:
            return None
        ttl = self.ttl_up if self._up else self.ttl_down
        return self._up if self._clock() - self._checked_at < ttl else None

    async def is_up(self, *, recheck: bool = False) -> bool:
        if not recheck:
            known = self.fresh()
            if known is not None:
                return known
        if self._inflight is None or self._inflight.done():
            self._inflight = asyncio.ensure_future(self._check())
        # shield: one caller giving up (e.g. cancelled) must not cancel the others' answer
        return await asyncio.shield(self._inflight)

    async def _check(self) -> bool:
        self.requests += 1
        up = await http_status(self._http(), self.url, self.timeout) == 200
        if not up and self._up is not False:
            logger.warning("action server down")
        self._up, self._checked_at = up, self._clock()
        return up


async def http_status(session: aiohttp.ClientSession, url: str, timeout: float) -> Optional[int]:
    """The status of GET `url`, or None when nothing answered within `timeout`."""
    try:
        async with session.get(url, timeout=aiohttp.ClientTimeout(total=timeout)) as response:
            await response.read()
            return response.status
    except (aiohttp.ClientError, asyncio.TimeoutError, OSError):
        return None
