"""Liveness probes: does a service that is still running still answer?

A service can hang without dying (SIGSTOPped, deadlocked, its event loop stuck). Its process is
there, so no restart ever fires, and the gateway gives every user the fail-safe answer. The
supervisor therefore asks each HTTP service a cheap GET every `interval` seconds; `Liveness` counts
the misses of one process and says when it counts as hung. The defaults, and the margin they leave
a busy Rasa: bot/settings.py (SCROLLCHECK_PROBE_*).
"""

from __future__ import annotations

import http.client
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Optional

from bot import settings

# Loopback only: an operator's HTTP(S)_PROXY must not carry the probes elsewhere.
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


@dataclass(frozen=True)
class ProbePolicy:
    interval: float  # seconds between probes; 0 turns them off
    timeout: float  # seconds one probe waits for an answer
    failures: int  # misses in a row that make a hung service

    @property
    def enabled(self) -> bool:
        return self.interval > 0

    @classmethod
    def from_settings(cls) -> ProbePolicy:
        return cls(
            settings.PROBE_INTERVAL.get(),
            settings.PROBE_TIMEOUT.get(),
            settings.PROBE_FAILURES.get(),
        )


def answers(url: str, timeout: float) -> bool:
    """Whether the server at `url` sends an HTTP answer within `timeout`. Any status counts: an
    answer, even an error page, shows that its loop is turning (errors are the service's to report)."""
    try:
        with _OPENER.open(url, timeout=timeout) as response:
            response.read()
        return True
    except urllib.error.HTTPError:
        return True
    except (OSError, http.client.HTTPException):  # refused, reset, timed out, garbled
        return False


class Liveness:
    """The probes of one process: `record()` each result; once the process counts as hung it
    returns for how long it has not answered ("for 46 s", "within 180 s of starting"), else None.
    A restarted service first has `start_timeout` seconds to answer at all."""

    def __init__(
        self,
        policy: ProbePolicy,
        started: float,
        start_timeout: float,
        answered: Optional[float] = None,
    ) -> None:
        self.policy, self.started, self.start_timeout = policy, started, start_timeout
        self.answered = answered  # when it last answered; None until it first has
        self.misses = 0

    def record(self, answered: bool, now: float) -> Optional[str]:
        if answered:
            self.answered, self.misses = now, 0
            return None
        if self.answered is None:
            if self.start_timeout and now - self.started > self.start_timeout:
                return f"within {self.start_timeout:.0f} s of starting"
            return None
        self.misses += 1
        if self.misses < self.policy.failures:
            return None
        return f"for {now - self.answered:.0f} s"
