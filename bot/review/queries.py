"""Read-only queries behind the review pages. Only check-ins the person agreed to share are visible,
and nothing returned here carries a pseudonym: check-ins are reached by their random `ref`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Tuple

from sqlalchemy import and_, exists, func, select
from sqlalchemy.orm import Session, selectinload
from sqlalchemy.sql.elements import ColumnElement

from bot.storage.models import CheckIn, EscalationEvent, TopicSummary

NOT_SCORED = "none"  # filter value for topics answered too sparsely to get a band


@dataclass(frozen=True)
class Filters:
    date_from: Optional[dt.date] = None
    date_to: Optional[dt.date] = None
    topic: Optional[str] = None
    band: Optional[str] = None  # a band id, or NOT_SCORED
    escalation: Optional[bool] = None  # True: only with an escalation; False: only without

    def describe(self) -> str:
        """A compact, data-free description for the audit log."""
        parts = []
        if self.date_from:
            parts.append(f"from={self.date_from.isoformat()}")
        if self.date_to:
            parts.append(f"to={self.date_to.isoformat()}")
        if self.topic:
            parts.append(f"topic={self.topic}")
        if self.band:
            parts.append(f"band={self.band}")
        if self.escalation is not None:
            parts.append(f"escalation={'yes' if self.escalation else 'no'}")
        return " ".join(parts) or "all"


@dataclass(frozen=True)
class EscalationView:
    level: str
    category: str
    occurred_at: dt.datetime


@dataclass(frozen=True)
class AnswerView:
    item_id: str
    value: Optional[int]
    elevated: bool
    skipped: bool


@dataclass(frozen=True)
class TopicView:
    topic: str
    score: Optional[float]
    band: Optional[str]
    answers: Tuple[AnswerView, ...]
    updated_at: dt.datetime

    @property
    def elevated(self) -> List[str]:
        return [a.item_id for a in self.answers if a.elevated]

    @property
    def skipped(self) -> List[str]:
        return [a.item_id for a in self.answers if a.skipped]


@dataclass(frozen=True)
class CheckInView:
    ref: str
    created_at: dt.datetime
    updated_at: dt.datetime
    age_band: Optional[str]
    country: Optional[str]
    language: Optional[str]
    topics: Dict[str, TopicView] = field(default_factory=dict)
    escalations: Tuple[EscalationView, ...] = ()

    @property
    def elevated(self) -> List[str]:
        return [item for view in self.topics.values() for item in view.elevated]

    @property
    def skipped(self) -> List[str]:
        return [item for view in self.topics.values() for item in view.skipped]


def _day_start(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time.min)


def _conditions(filters: Filters) -> List[ColumnElement]:
    conditions: List[ColumnElement] = [CheckIn.shared.is_(True)]
    if filters.date_from:
        conditions.append(CheckIn.created_at >= _day_start(filters.date_from))
    if filters.date_to:
        conditions.append(CheckIn.created_at < _day_start(filters.date_to + dt.timedelta(days=1)))
    if filters.topic or filters.band:
        topic_match = [TopicSummary.checkin_pk == CheckIn.id]
        if filters.topic:
            topic_match.append(TopicSummary.topic == filters.topic)
        if filters.band == NOT_SCORED:
            topic_match.append(TopicSummary.band.is_(None))
        elif filters.band:
            topic_match.append(TopicSummary.band == filters.band)
        conditions.append(exists().where(and_(*topic_match)))
    if filters.escalation is not None:
        has_escalation = exists().where(EscalationEvent.checkin_pk == CheckIn.id)
        conditions.append(has_escalation if filters.escalation else ~has_escalation)
    return conditions


def _view(checkin: CheckIn) -> CheckInView:
    topics = {
        summary.topic: TopicView(
            topic=summary.topic,
            score=summary.score,
            band=summary.band,
            answers=tuple(
                AnswerView(a.item_id, a.value, bool(a.elevated), bool(a.skipped))
                for a in summary.answers
            ),
            updated_at=summary.updated_at,
        )
        for summary in checkin.topics
    }
    escalations = tuple(
        EscalationView(e.level, e.category, e.occurred_at)
        for e in sorted(checkin.escalations, key=lambda e: e.occurred_at)
    )
    return CheckInView(
        ref=checkin.ref,
        created_at=checkin.created_at,
        updated_at=checkin.updated_at,
        age_band=checkin.age_band,
        country=checkin.country,
        language=checkin.language,
        topics=topics,
        escalations=escalations,
    )


def _loaded():
    return (
        selectinload(CheckIn.topics).selectinload(TopicSummary.answers),
        selectinload(CheckIn.escalations),
    )


def list_checkins(
    session: Session, filters: Filters, *, limit: Optional[int] = None, offset: int = 0
) -> Tuple[List[CheckInView], int]:
    """Shared check-ins matching the filters, newest first, and the total count."""
    conditions = _conditions(filters)
    total = session.execute(
        select(func.count()).select_from(CheckIn).where(*conditions)
    ).scalar_one()
    query = (
        select(CheckIn)
        .where(*conditions)
        .options(*_loaded())
        .order_by(CheckIn.created_at.desc(), CheckIn.id.desc())
    )
    if limit is not None:
        query = query.limit(limit).offset(offset)
    rows = session.execute(query).scalars().all()
    return [_view(row) for row in rows], int(total)


def get_checkin(session: Session, ref: str) -> Optional[CheckInView]:
    """One shared check-in by its ref; None when missing or not shared."""
    row = session.execute(
        select(CheckIn).where(CheckIn.ref == ref, CheckIn.shared.is_(True)).options(*_loaded())
    ).scalar_one_or_none()
    return _view(row) if row else None


# --- chart data -------------------------------------------------------------------------------


def week_start(moment: dt.date) -> dt.date:
    """Monday of the ISO week containing `moment`."""
    day = moment.date() if isinstance(moment, dt.datetime) else moment
    return day - dt.timedelta(days=day.weekday())


def weeks_between(first: dt.date, last: dt.date) -> List[dt.date]:
    weeks, current = [], week_start(first)
    while current <= week_start(last):
        weeks.append(current)
        current += dt.timedelta(weeks=1)
    return weeks


def band_distribution(
    session: Session, date_from: dt.date, date_to: dt.date
) -> Dict[str, Dict[Optional[str], int]]:
    """topic -> band (None = not scored) -> number of shared check-ins."""
    rows = session.execute(
        select(TopicSummary.topic, TopicSummary.band, func.count())
        .join(CheckIn, TopicSummary.checkin_pk == CheckIn.id)
        .where(*_conditions(Filters(date_from=date_from, date_to=date_to)))
        .group_by(TopicSummary.topic, TopicSummary.band)
    ).all()
    result: Dict[str, Dict[Optional[str], int]] = {}
    for topic, band, count in rows:
        result.setdefault(topic, {})[band] = int(count)
    return result


def _per_week(
    moments: List[dt.datetime], date_from: dt.date, date_to: dt.date
) -> List[Tuple[dt.date, int]]:
    counts = {week: 0 for week in weeks_between(date_from, date_to)}
    for moment in moments:
        week = week_start(moment)
        if week in counts:
            counts[week] += 1
    return sorted(counts.items())


def checkins_per_week(
    session: Session, date_from: dt.date, date_to: dt.date
) -> List[Tuple[dt.date, int]]:
    moments = (
        session.execute(
            select(CheckIn.created_at).where(
                *_conditions(Filters(date_from=date_from, date_to=date_to))
            )
        )
        .scalars()
        .all()
    )
    return _per_week(list(moments), date_from, date_to)


def escalations_per_week(
    session: Session, date_from: dt.date, date_to: dt.date
) -> List[Tuple[dt.date, Dict[str, int]]]:
    """Every escalation (with or without consent) per week and level: counts only."""
    rows = session.execute(
        select(EscalationEvent.occurred_at, EscalationEvent.level).where(
            EscalationEvent.occurred_at >= _day_start(date_from),
            EscalationEvent.occurred_at < _day_start(date_to + dt.timedelta(days=1)),
        )
    ).all()
    weeks: Dict[dt.date, Dict[str, int]] = {week: {} for week in weeks_between(date_from, date_to)}
    for occurred_at, level in rows:
        bucket = weeks.get(week_start(occurred_at))
        if bucket is not None:
            bucket[level] = bucket.get(level, 0) + 1
    return sorted(weeks.items())
