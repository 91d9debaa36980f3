"""The repository the Rasa actions call, exactly as in the contracts (DATABASE_URL, no url argument)."""

from __future__ import annotations

import pytest
from sqlalchemy import select, text

from bot.storage import repository
from bot.storage.db import session_scope
from bot.storage.models import CheckIn, ConsentRecord, EscalationEvent, ItemAnswer, TopicSummary

FOMO = dict(
    topic="fomo",
    score=3.6,
    band="high",
    answers={"fomo_1": 3, "fomo_2": 4, "fomo_3": None, "fomo_4": 4, "fomo_5": 3},
    elevated=["fomo_2", "fomo_4"],
    skipped=["fomo_3"],
    age_band="16-17",
    country="GB",
    language="en",
)


def _rows(db, model):
    with session_scope(db) as session:
        return session.execute(select(model)).scalars().all()


def test_consent_given_stores_the_summary_with_item_ids_and_values(db):
    repository.record_consent("p-1", scope="screening", given=True)
    assert repository.record_topic_summary("p-1", checkin_id="c-1", **FOMO) is True

    [checkin] = _rows(db, CheckIn)
    assert (checkin.age_band, checkin.country, checkin.language, checkin.shared) == (
        "16-17",
        "GB",
        "en",
        False,
    )
    assert len(checkin.ref) == 16 and "p-1" not in checkin.ref
    [summary] = _rows(db, TopicSummary)
    assert (summary.topic, summary.score, summary.band) == ("fomo", 3.6, "high")
    answers = {a.item_id: (a.value, a.elevated, a.skipped) for a in _rows(db, ItemAnswer)}
    assert answers == {
        "fomo_1": (3, False, False),
        "fomo_2": (4, True, False),
        "fomo_3": (None, False, True),
        "fomo_4": (4, True, False),
        "fomo_5": (3, False, False),
    }


def test_consent_refused_stores_nothing(db):
    repository.record_consent("p-2", scope="screening", given=False)
    assert repository.record_topic_summary("p-2", checkin_id="c-1", **FOMO) is False
    assert (
        _rows(db, CheckIn) == [] and _rows(db, TopicSummary) == [] and _rows(db, ItemAnswer) == []
    )
    assert [(c.scope, c.given) for c in _rows(db, ConsentRecord)] == [("screening", False)]


def test_no_consent_record_at_all_stores_nothing(db):
    assert repository.record_topic_summary("p-never-asked", checkin_id="c-1", **FOMO) is False
    assert _rows(db, TopicSummary) == []


def test_withdrawn_consent_stops_further_summaries(db):
    repository.record_consent("p-3", scope="screening", given=True)
    repository.record_topic_summary("p-3", checkin_id="c-1", **FOMO)
    repository.record_consent("p-3", scope="screening", given=False)
    assert repository.record_topic_summary("p-3", checkin_id="c-2", **FOMO) is False
    assert [c.checkin_id for c in _rows(db, CheckIn)] == ["c-1"]


def test_upsert_per_topic_and_half_finished_checkin_keeps_earlier_topics(db):
    repository.record_consent("p-4", scope="screening", given=True)
    repository.record_topic_summary("p-4", checkin_id="c-1", **FOMO)
    # the same topic again (e.g. re-answered): replaced, not duplicated
    repository.record_topic_summary(
        "p-4",
        checkin_id="c-1",
        topic="fomo",
        score=2.0,
        band="low",
        answers={"fomo_1": 2, "fomo_2": 2, "fomo_3": 2},
        elevated=[],
        skipped=[],
        age_band=None,
        country=None,
        language=None,
    )
    # a second topic; the person then stops (no third topic): both topics are kept
    repository.record_topic_summary(
        "p-4",
        checkin_id="c-1",
        topic="comparison",
        score=None,
        band=None,
        answers={"comparison_1": 5, "comparison_2": None},
        elevated=["comparison_1"],
        skipped=["comparison_2"],
        age_band=None,
        country=None,
        language=None,
    )
    summaries = {s.topic: (s.score, s.band) for s in _rows(db, TopicSummary)}
    assert summaries == {"fomo": (2.0, "low"), "comparison": (None, None)}
    [checkin] = _rows(db, CheckIn)
    assert (checkin.age_band, checkin.country) == ("16-17", "GB")  # None did not overwrite
    assert sorted((a.item_id, a.value) for a in _rows(db, ItemAnswer)) == [
        ("comparison_1", 5),
        ("comparison_2", None),
        ("fomo_1", 2),
        ("fomo_2", 2),
        ("fomo_3", 2),
    ]


def test_set_sharing_marks_only_that_checkin(db):
    repository.record_consent("p-5", scope="screening", given=True)
    repository.record_topic_summary("p-5", checkin_id="c-1", **FOMO)
    repository.record_topic_summary("p-5", checkin_id="c-2", **FOMO)
    repository.record_consent("p-5", scope="share", given=True)
    assert repository.set_sharing("p-5", checkin_id="c-2", shared=True) == 1
    assert {c.checkin_id: c.shared for c in _rows(db, CheckIn)} == {"c-1": False, "c-2": True}
    assert repository.set_sharing("p-5", checkin_id="missing", shared=True) == 0


def test_escalation_without_consent_is_a_bare_count(db):
    repository.record_escalation(level="urgent", category="self_harm", pseudonym="p-anon")
    repository.record_escalation(level="concern", category="abuse", pseudonym=None)
    events = _rows(db, EscalationEvent)
    assert [(e.level, e.category, e.pseudonym, e.checkin_pk) for e in events] == [
        ("urgent", "self_harm", None, None),
        ("concern", "abuse", None, None),
    ]


def test_escalation_with_consent_is_linked_to_the_running_checkin(db):
    repository.record_consent("p-6", scope="screening", given=True)
    repository.record_escalation(
        level="concern", category="self_harm", pseudonym="p-6"
    )  # before any summary
    repository.record_topic_summary("p-6", checkin_id="c-1", **FOMO)
    repository.record_escalation(
        level="urgent", category="self_harm", pseudonym="p-6"
    )  # during the check-in
    [checkin] = _rows(db, CheckIn)
    events = _rows(db, EscalationEvent)
    assert [(e.level, e.pseudonym, e.checkin_pk) for e in events] == [
        ("concern", "p-6", checkin.id),
        ("urgent", "p-6", checkin.id),
    ]


@pytest.mark.parametrize("bad", ["I want to die", "Self harm", "x" * 40, ""])
def test_escalation_category_can_never_hold_a_message(db, bad):
    with pytest.raises(ValueError):
        repository.record_escalation(level="urgent", category=bad, pseudonym=None)
    assert _rows(db, EscalationEvent) == []


def test_item_ids_must_be_codes_not_text(db):
    repository.record_consent("p-7", scope="screening", given=True)
    with pytest.raises(ValueError):
        repository.record_topic_summary(
            "p-7",
            checkin_id="c-1",
            topic="fomo",
            score=1.0,
            band="low",
            answers={"How often do you feel bad?": 1},
            elevated=[],
            skipped=[],
            age_band=None,
            country=None,
            language=None,
        )


def test_unknown_consent_scope_is_refused(db):
    with pytest.raises(ValueError):
        repository.record_consent("p-8", scope="marketing", given=True)


def test_no_message_text_column_exists(db):
    """Data minimisation by construction: no table has a column that could hold chat text."""
    from bot.storage.models import Base

    names = {c.name for t in Base.metadata.tables.values() for c in t.columns}
    assert not names & {
        "text",
        "message",
        "message_text",
        "content",
        "body",
        "name",
        "first_name",
        "username",
    }
    with session_scope(db) as session:
        assert session.execute(text("SELECT count(*) FROM checkins")).scalar_one() == 0
