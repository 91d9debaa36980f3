"""Writes from the Rasa actions: consent, per-topic summaries, sharing, escalations.

Every function is one short transaction, retried while SQLite is locked by another process.
Guards that protect the young person live here as well as in the dialogue, so a slip in an
action cannot store what the person did not agree to:
- a topic summary is stored only after screening consent was given (latest answer counts);
- an escalation keeps its pseudonym only after screening consent, otherwise it is a bare count;
- level and category must be short codes, so a message can never end up in those columns.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from typing import Dict, Iterable, Mapping, Optional

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.storage.db import retry_when_locked, session_scope
from bot.storage.models import (
    PSEUDONYM_LENGTH,
    CheckIn,
    ConsentRecord,
    EscalationEvent,
    ItemAnswer,
    TopicSummary,
    utcnow,
)

log = logging.getLogger(__name__)

CONSENT_SCOPES = ("screening", "share")
# An escalation belongs to the check-in the person was in: the same pseudonym, active within this
# window around the escalation.
CHECKIN_WINDOW = dt.timedelta(hours=2)

_CODE = re.compile(r"^[a-z][a-z0-9_]{0,31}$")
_ITEM_ID = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")


def _require_pseudonym(pseudonym: str) -> str:
    if not isinstance(pseudonym, str) or not pseudonym.strip():
        raise ValueError("pseudonym must be a non-empty string")
    if len(pseudonym) > PSEUDONYM_LENGTH:
        raise ValueError(f"pseudonym longer than {PSEUDONYM_LENGTH} characters")
    return pseudonym


def _require_code(value: str, what: str, *, max_len: int = 32) -> str:
    if not isinstance(value, str) or not _CODE.match(value) or len(value) > max_len:
        raise ValueError(f"{what} must be a short lower-case code like 'self_harm'")
    return value


def _short(value: Optional[str], what: str, max_len: int) -> Optional[str]:
    if value is None:
        return None
    if not isinstance(value, str) or len(value) > max_len:
        raise ValueError(f"{what} must be a string of at most {max_len} characters")
    return value.strip() or None


def _has_screening_consent(session: Session, pseudonym: str) -> bool:
    latest = session.execute(
        select(ConsentRecord.given)
        .where(ConsentRecord.pseudonym == pseudonym, ConsentRecord.scope == "screening")
        .order_by(ConsentRecord.recorded_at.desc(), ConsentRecord.id.desc())
        .limit(1)
    ).scalar_one_or_none()
    return bool(latest)


def has_screening_consent(pseudonym: str, *, url: Optional[str] = None) -> bool:
    """Whether the latest screening-consent answer of this pseudonym was yes."""
    with session_scope(url) as session:
        return _has_screening_consent(session, _require_pseudonym(pseudonym))


def record_consent(pseudonym: str, *, scope: str, given: bool, url: Optional[str] = None) -> None:
    """Remember a yes/no to a consent question ("screening" or "share")."""
    _require_pseudonym(pseudonym)
    if scope not in CONSENT_SCOPES:
        raise ValueError(f"scope must be one of {CONSENT_SCOPES}")

    def write() -> None:
        with session_scope(url, write=True) as session:
            session.add(
                ConsentRecord(
                    pseudonym=pseudonym, scope=scope, given=bool(given), recorded_at=utcnow()
                )
            )

    retry_when_locked(write, what="record_consent")


def _answer_rows(
    answers: Mapping[str, Optional[int]], elevated: Iterable[str], skipped: Iterable[str]
) -> Dict[str, ItemAnswer]:
    elevated_ids, skipped_ids = set(elevated), set(skipped)
    item_ids = list(answers) + sorted((elevated_ids | skipped_ids) - set(answers))
    rows: Dict[str, ItemAnswer] = {}
    for item_id in item_ids:
        if not isinstance(item_id, str) or not _ITEM_ID.match(item_id):
            raise ValueError("item ids must be short codes like 'fomo_3'")
        value = answers.get(item_id)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
            raise ValueError("answers must be integers (scale values) or None")
        is_skipped = item_id in skipped_ids or value is None
        rows[item_id] = ItemAnswer(
            item_id=item_id,
            value=None if is_skipped else value,
            elevated=item_id in elevated_ids and not is_skipped,
            skipped=is_skipped,
        )
    return rows


def _attach_recent_escalations(session: Session, checkin: CheckIn, now: dt.datetime) -> None:
    # An escalation that happened just before the first summary of this check-in was written
    # (e.g. during the first topic) belongs to it as well.
    session.execute(
        update(EscalationEvent)
        .where(
            EscalationEvent.pseudonym == checkin.pseudonym,
            EscalationEvent.checkin_pk.is_(None),
            EscalationEvent.occurred_at >= now - CHECKIN_WINDOW,
        )
        .values(checkin_pk=checkin.id)
        .execution_options(synchronize_session=False)
    )


def record_topic_summary(
    pseudonym: str,
    *,
    checkin_id: str,
    topic: str,
    score: Optional[float],
    band: Optional[str],
    answers: Mapping[str, Optional[int]],
    elevated: Iterable[str] = (),
    skipped: Iterable[str] = (),
    age_band: Optional[str] = None,
    country: Optional[str] = None,
    language: Optional[str] = None,
    url: Optional[str] = None,
) -> bool:
    """Insert or replace the result of one topic of one check-in.

    Returns False (and stores nothing) when the person has not given screening consent.
    """
    _require_pseudonym(pseudonym)
    checkin_id = _short(checkin_id, "checkin_id", 64) or ""
    if not checkin_id:
        raise ValueError("checkin_id must be a non-empty string")
    _require_code(topic, "topic")
    band = _require_code(band, "band", max_len=16) if band is not None else None
    if score is not None:
        score = float(score)
    age_band = _short(age_band, "age_band", 16)
    country = _short(country, "country", 8)
    language = _short(language, "language", 16)
    rows = _answer_rows(answers, elevated, skipped)

    def write() -> bool:
        with session_scope(url, write=True) as session:
            if not _has_screening_consent(session, pseudonym):
                return False
            now = utcnow()
            checkin = session.execute(
                select(CheckIn).where(
                    CheckIn.pseudonym == pseudonym, CheckIn.checkin_id == checkin_id
                )
            ).scalar_one_or_none()
            if checkin is None:
                checkin = CheckIn(
                    pseudonym=pseudonym, checkin_id=checkin_id, shared=False, created_at=now
                )
                session.add(checkin)
            checkin.updated_at = now
            # Later topics may know what earlier ones did not; never overwrite a value with None.
            checkin.age_band = age_band or checkin.age_band
            checkin.country = country or checkin.country
            checkin.language = language or checkin.language
            session.flush()

            summary = session.execute(
                select(TopicSummary).where(
                    TopicSummary.checkin_pk == checkin.id, TopicSummary.topic == topic
                )
            ).scalar_one_or_none()
            if summary is None:
                summary = TopicSummary(checkin_pk=checkin.id, topic=topic, created_at=now)
                session.add(summary)
            summary.score = score
            summary.band = band
            summary.updated_at = now
            # Update rows in place: replacing them would insert before deleting and trip the
            # (summary, item) unique constraint.
            existing = {answer.item_id: answer for answer in summary.answers}
            for item_id, row in rows.items():
                current = existing.pop(item_id, None)
                if current is None:
                    summary.answers.append(row)
                else:
                    current.value, current.elevated, current.skipped = (
                        row.value,
                        row.elevated,
                        row.skipped,
                    )
            for stale in existing.values():
                summary.answers.remove(stale)
            _attach_recent_escalations(session, checkin, now)
            return True

    def write_once_more_on_race() -> bool:
        try:
            return write()
        except IntegrityError:
            # Two writers created the same check-in at once; the second now finds it and updates.
            return write()

    stored = retry_when_locked(write_once_more_on_race, what="record_topic_summary")
    if not stored:
        log.warning("topic summary not stored for %s: no screening consent", pseudonym)
    return stored


def set_sharing(pseudonym: str, *, checkin_id: str, shared: bool, url: Optional[str] = None) -> int:
    """Mark a check-in as shared (or not) with clinicians; returns how many check-ins changed (0/1)."""
    _require_pseudonym(pseudonym)

    def write() -> int:
        with session_scope(url, write=True) as session:
            result = session.execute(
                update(CheckIn)
                .where(CheckIn.pseudonym == pseudonym, CheckIn.checkin_id == checkin_id)
                .values(shared=bool(shared), updated_at=utcnow())
                .execution_options(synchronize_session=False)
            )
            return int(result.rowcount or 0)

    return retry_when_locked(write, what="set_sharing")


def record_escalation(
    *, level: str, category: str, pseudonym: Optional[str] = None, url: Optional[str] = None
) -> None:
    """Count a crisis escalation. Never pass the message: only its level and category codes."""
    _require_code(level, "level", max_len=16)
    _require_code(category, "category")
    if pseudonym is not None:
        _require_pseudonym(pseudonym)

    def write() -> None:
        with session_scope(url, write=True) as session:
            now = utcnow()
            keep_pseudonym = pseudonym is not None and _has_screening_consent(session, pseudonym)
            event = EscalationEvent(level=level, category=category, occurred_at=now)
            if keep_pseudonym:
                event.pseudonym = pseudonym
                checkin = session.execute(
                    select(CheckIn)
                    .where(
                        CheckIn.pseudonym == pseudonym, CheckIn.updated_at >= now - CHECKIN_WINDOW
                    )
                    .order_by(CheckIn.updated_at.desc(), CheckIn.id.desc())
                    .limit(1)
                ).scalar_one_or_none()
                if checkin is not None:
                    event.checkin_pk = checkin.id
            session.add(event)

    retry_when_locked(write, what="record_escalation")
