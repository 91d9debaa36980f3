"""When each user was last told that the bot is an automated assistant (not a human, not a therapist).

California SB 243 and New York GBL Art. 47 ask for that notice at the start and again at least every
3 hours of an ongoing chat. Rasa discloses at first contact and when asked (it then sends a
`disclosed` control message); the gateway keeps this clock per pseudonym and adds a short reminder
whenever a message arrives and the last disclosure is unknown or older than the interval.

The clock lives in memory only: after a restart every pseudonym is "unknown", which errs on the side
of reminding once too often. The number of pseudonyms remembered is bounded (least recently used
entries are dropped, which again only means an extra reminder).
"""

from __future__ import annotations

import time
from collections import OrderedDict
from typing import Callable, Optional

DISCLOSURE_INTERVAL_SECONDS = 3 * 60 * 60
DEFAULT_MAX_ENTRIES = 100_000


class DisclosureClock:
    """Per pseudonym, the time of the last disclosure; `clock` returns seconds (monotonic)."""

    def __init__(
        self,
        *,
        interval_seconds: float = DISCLOSURE_INTERVAL_SECONDS,
        clock: Callable[[], float] = time.monotonic,
        max_entries: int = DEFAULT_MAX_ENTRIES,
    ) -> None:
        self.interval_seconds = interval_seconds
        self._clock = clock
        self._max_entries = max_entries
        self._last: "OrderedDict[str, float]" = OrderedDict()

    def last_disclosure(self, pseudonym: str) -> Optional[float]:
        return self._last.get(pseudonym)

    def is_due(self, pseudonym: str) -> bool:
        """True when this pseudonym was never told (as far as we know) or told too long ago."""
        last = self._last.get(pseudonym)
        return last is None or self._clock() - last > self.interval_seconds

    def mark_disclosed(self, pseudonym: str) -> None:
        self._last[pseudonym] = self._clock()
        self._last.move_to_end(pseudonym)
        while len(self._last) > self._max_entries:
            self._last.popitem(last=False)

    def forget(self, pseudonym: str) -> None:
        """Drop what we know about this pseudonym (after erasure)."""
        self._last.pop(pseudonym, None)

    def __len__(self) -> int:
        return len(self._last)
