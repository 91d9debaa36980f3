"""Retention: delete Rasa's raw tracker rows older than the retention period.

`scrollcheck purge --older-than 30d` (also 12h, 45m, 2w, 7.5d); without it, SCROLLCHECK_RETENTION_DAYS
as `scrollcheck run`'s hourly purge reads it (bot.settings.retention). Rasa stores `events.timestamp` as a
float Unix epoch. Only Rasa's tracker rows are purged; anonymised summaries are not raw chat data.
"""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import re
import sys
import time
from typing import List, Optional

from sqlalchemy import Column, Float, MetaData, Table, delete, inspect
from sqlalchemy.engine import make_url

from bot import settings
from bot.storage.db import database_url, retry_when_locked, session_scope

log = logging.getLogger(__name__)

RASA_EVENTS = Table("events", MetaData(), Column("timestamp", Float))

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([dhmw])\s*$", re.IGNORECASE)
_UNITS = {
    "w": dt.timedelta(weeks=1),
    "d": dt.timedelta(days=1),
    "h": dt.timedelta(hours=1),
    "m": dt.timedelta(minutes=1),
}


def parse_duration(text: str) -> dt.timedelta:
    """'30d' -> 30 days, '7.5d' -> 7.5 days; units w, d, h, m. Zero is refused (it would purge live
    conversations), as SCROLLCHECK_RETENTION_DAYS refuses it."""
    match = _DURATION.match(text or "")
    if not match:
        raise ValueError(
            f"invalid duration {text!r}: use a number and a unit, e.g. 30d, 12h, 45m or 2w"
        )
    amount = float(match.group(1))
    if amount <= 0:
        raise ValueError("the retention must be longer than zero")
    return amount * _UNITS[match.group(2).lower()]


def purge_trackers(older_than: dt.timedelta, url: Optional[str] = None) -> int:
    """Delete Rasa `events` rows whose timestamp is older than now - older_than; returns the count."""
    if older_than <= dt.timedelta(0):
        raise ValueError("older_than must be positive")
    cutoff = time.time() - older_than.total_seconds()

    def run() -> int:
        with session_scope(url, write=True) as session:
            if not inspect(session.connection()).has_table("events"):
                return 0
            result = session.execute(delete(RASA_EVENTS).where(RASA_EVENTS.c.timestamp < cutoff))
            return int(result.rowcount or 0)

    deleted = retry_when_locked(run, what="purge_trackers")
    log.info("purged %d tracker events older than %s", deleted, older_than)
    return deleted


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="scrollcheck purge", description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--older-than",
        help="retention, e.g. 30d, 7.5d, 12h, 45m (default: SCROLLCHECK_RETENTION_DAYS days, else 30d)",
    )
    parser.add_argument("--database-url", help="default: env DATABASE_URL, else SQLite under var/")
    args = parser.parse_args(argv)
    if args.older_than is None:
        older_than, label = settings.retention(), f"{settings.RETENTION_DAYS.get():g}d"
    else:
        try:
            older_than, label = parse_duration(args.older_than), args.older_than.strip()
        except ValueError as error:
            parser.error(str(error))
    url = args.database_url or database_url()
    try:
        deleted = purge_trackers(older_than, url)
    except Exception as error:
        print(f"scrollcheck purge: failed: {type(error).__name__}: {error}", file=sys.stderr)
        return 1
    where = make_url(url).render_as_string(hide_password=True)
    print(f"deleted {deleted} tracker event(s) older than {label} from {where}")
    return 0
