"""The review page's queries on SQLite and PostgreSQL: only shared check-ins, filters, chart counts."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import update

from bot.review.queries import (
    NOT_SCORED,
    Filters,
    band_distribution,
    checkins_per_week,
    escalations_per_week,
    get_checkin,
    list_checkins,
)
from bot.storage import repository
from bot.storage.db import session_scope
from bot.storage.models import CheckIn, utcnow


def _checkin(pseudonym: str, band: str | None, *, shared: bool, escalate: bool = False) -> None:
    repository.record_consent(pseudonym, scope="screening", given=True)
    repository.record_topic_summary(
        pseudonym,
        checkin_id="c",
        topic="fomo",
        score=None if band is None else 3.0,
        band=band,
        answers={"fomo_1": 3},
        elevated=[],
        skipped=[],
        age_band="18-21",
        country="NL",
        language="nl",
    )
    if escalate:
        repository.record_escalation(level="urgent", category="abuse", pseudonym=pseudonym)
    repository.set_sharing(pseudonym, checkin_id="c", shared=shared)


def test_list_filters_and_charts(db):
    _checkin("p-high", "high", shared=True, escalate=True)
    _checkin("p-low", "low", shared=True)
    _checkin("p-none", None, shared=True)
    _checkin("p-private", "high", shared=False, escalate=True)
    repository.record_escalation(level="concern", category="self_harm", pseudonym=None)
    with session_scope(db, write=True) as session:  # one shared check-in is from last month
        session.execute(
            update(CheckIn)
            .where(CheckIn.pseudonym == "p-low")
            .values(created_at=utcnow() - dt.timedelta(days=30))
        )

    today = utcnow().date()
    with session_scope(db) as session:
        rows, total = list_checkins(session, Filters())
        assert total == 3 and len(rows) == 3
        assert {r.topics["fomo"].band for r in rows} == {"high", "low", None}
        assert list_checkins(session, Filters(band="high"))[1] == 1
        assert list_checkins(session, Filters(topic="fomo", band=NOT_SCORED))[1] == 1
        assert list_checkins(session, Filters(topic="comparison"))[1] == 0
        [escalated], _ = list_checkins(session, Filters(escalation=True))
        assert [(e.level, e.category) for e in escalated.escalations] == [("urgent", "abuse")]
        assert list_checkins(session, Filters(escalation=False))[1] == 2
        assert list_checkins(session, Filters(date_from=today, date_to=today))[1] == 2
        assert list_checkins(session, Filters(date_to=today - dt.timedelta(days=1)))[1] == 1
        page, total = list_checkins(session, Filters(), limit=2, offset=2)
        assert total == 3 and len(page) == 1

        private_ref = (
            session.execute(CheckIn.__table__.select().where(CheckIn.pseudonym == "p-private"))
            .mappings()
            .one()["ref"]
        )
        assert get_checkin(session, private_ref) is None
        assert get_checkin(session, rows[0].ref).ref == rows[0].ref

        start = today - dt.timedelta(weeks=8)
        assert band_distribution(session, start, today) == {"fomo": {"high": 1, "low": 1, None: 1}}
        assert sum(n for _, n in checkins_per_week(session, start, today)) == 3
        levels = [counts for _, counts in escalations_per_week(session, start, today) if counts]
        # every escalation is counted, shared or not, with consent or not
        assert sum(sum(c.values()) for c in levels) == 3
