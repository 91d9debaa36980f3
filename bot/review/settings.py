"""The clinician review page's settings as one typed value, read through bot/settings.py.

`review_settings()` gathers the SCROLLCHECK_REVIEW_* variables (each defined, defaulted and parsed
in bot/settings.py; a bad value raises its SettingError) into a `ReviewSettings`; tests build one
directly. The login limits:

  SCROLLCHECK_REVIEW_LOCKOUT_FAILURES (5)   failed logins for one account that lock it ...
  SCROLLCHECK_REVIEW_LOCKOUT_MINUTES (15)   ... within this many minutes, and for this many minutes
  SCROLLCHECK_REVIEW_IP_FAILURES (20)       failed logins from one address (any accounts) that
                                            throttle that address as long
  SCROLLCHECK_REVIEW_THREADS (4)            worker threads of the WSGI server (waitress)
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Mapping, Optional

from bot import settings


@dataclass(frozen=True)
class LoginLimits:
    """When failed logins lock an account or throttle an address (see security.login_block)."""

    account_failures: int = 5
    ip_failures: int = 20
    lockout: dt.timedelta = dt.timedelta(minutes=15)  # the counting window and the lock's length


@dataclass(frozen=True)
class ReviewSettings:
    host: str = "127.0.0.1"
    port: int = 8050
    https: bool = False
    trust_proxy: bool = False
    limits: LoginLimits = field(default_factory=LoginLimits)
    threads: int = 4


def review_settings(env: Optional[Mapping[str, str]] = None) -> ReviewSettings:
    """The review page's settings from the environment (or `env`); SettingError on a bad value."""
    return ReviewSettings(
        host=settings.REVIEW_HOST.get(env),
        port=settings.REVIEW_PORT.get(env),
        https=settings.REVIEW_HTTPS.get(env),
        trust_proxy=settings.REVIEW_TRUST_PROXY.get(env),
        limits=LoginLimits(
            account_failures=settings.REVIEW_LOCKOUT_FAILURES.get(env),
            ip_failures=settings.REVIEW_IP_FAILURES.get(env),
            lockout=dt.timedelta(minutes=settings.REVIEW_LOCKOUT_MINUTES.get(env)),
        ),
        threads=settings.REVIEW_THREADS.get(env),
    )
