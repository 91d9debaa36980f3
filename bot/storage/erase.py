"""Erasure for /forget: everything about one pseudonym goes, and only the fact of an erasure stays.

Deleted: check-ins with their topic summaries and item answers, consent records, and Rasa's
tracker rows (`events` with that sender_id, when the table exists). Escalation events are kept
as anonymous counts (the same as for people who never consented): their pseudonym and check-in
link are cleared. One transaction, so an erasure is all or nothing, and one `erasure_log` row (a time,
nothing else) per call.

Who calls it: the gateway, once per confirmed /forget, after Rasa has answered that turn (Rasa
writes its tracker after the action has run, so only then are all of this turn's events in the
table). The logs get the row counts, never the pseudonym: that line would be the one link to the
erased person left behind.
"""

from __future__ import annotations

import logging
from typing import Dict, Optional

from sqlalchemy import Column, MetaData, String, Table, delete, inspect, select, update
from sqlalchemy.orm import Session

from bot.storage.db import retry_when_locked, session_scope
from bot.storage.models import (
    CheckIn,
    ConsentRecord,
    ErasureEntry,
    EscalationEvent,
    ItemAnswer,
    TopicSummary,
    utcnow,
)

log = logging.getLogger(__name__)

# Rasa's SQLTrackerStore table, described just enough to delete from it.
RASA_EVENTS = Table("events", MetaData(), Column("sender_id", String(255)))


def _rasa_events_exist(session: Session) -> bool:
    return inspect(session.connection()).has_table("events")


def _erase(session: Session, pseudonym: str) -> Dict[str, int]:
    counts: Dict[str, int] = {}
    checkin_ids = select(CheckIn.id).where(CheckIn.pseudonym == pseudonym).scalar_subquery()
    summary_ids = (
        select(TopicSummary.id).where(TopicSummary.checkin_pk.in_(checkin_ids)).scalar_subquery()
    )

    counts["escalation_events_anonymised"] = session.execute(
        update(EscalationEvent)
        .where(EscalationEvent.pseudonym == pseudonym)
        .values(pseudonym=None, checkin_pk=None)
        .execution_options(synchronize_session=False)
    ).rowcount
    # Children first: SQLite only cascades when foreign keys are switched on for the connection.
    counts["item_answers"] = session.execute(
        delete(ItemAnswer)
        .where(ItemAnswer.summary_pk.in_(summary_ids))
        .execution_options(synchronize_session=False)
    ).rowcount
    counts["topic_summaries"] = session.execute(
        delete(TopicSummary)
        .where(TopicSummary.checkin_pk.in_(checkin_ids))
        .execution_options(synchronize_session=False)
    ).rowcount
    counts["checkins"] = session.execute(
        delete(CheckIn)
        .where(CheckIn.pseudonym == pseudonym)
        .execution_options(synchronize_session=False)
    ).rowcount
    counts["consent_records"] = session.execute(
        delete(ConsentRecord)
        .where(ConsentRecord.pseudonym == pseudonym)
        .execution_options(synchronize_session=False)
    ).rowcount
    counts["events"] = (
        session.execute(delete(RASA_EVENTS).where(RASA_EVENTS.c.sender_id == pseudonym)).rowcount
        if _rasa_events_exist(session)
        else 0
    )
    session.add(ErasureEntry(erased_at=utcnow()))
    return {table: int(count or 0) for table, count in counts.items()}


def erase_pseudonym(pseudonym: str, url: Optional[str] = None) -> Dict[str, int]:
    """Delete every row about `pseudonym`; returns rows deleted (or anonymised) per table."""
    if not isinstance(pseudonym, str) or not pseudonym:
        raise ValueError("pseudonym must be a non-empty string")

    def run() -> Dict[str, int]:
        with session_scope(url, write=True) as session:
            return _erase(session, pseudonym)

    counts = retry_when_locked(run, what="erase_pseudonym")
    log.info("erasure done, rows per table: %s", counts)  # counts only: no pseudonym
    return counts
