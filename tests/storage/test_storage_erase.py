"""/forget: erase_pseudonym leaves nothing for that pseudonym in ANY table (checked by SQL over every
text column of the live schema), keeps other people's data, and logs only that an erasure happened."""

from __future__ import annotations

import logging

from sqlalchemy import String, Text, create_engine, inspect, select, text

from bot.storage import repository
from bot.storage.db import session_scope
from bot.storage.erase import erase_pseudonym
from bot.storage.models import ErasureEntry, EscalationEvent
from tests.storage.rasa_trackers import count_events, dispose, rasa_sql_store, save_conversation

ERASED = "3f9a1c0d-pseudonym-to-forget-7b2e"
KEPT = "8c41d2aa-pseudonym-that-stays-19fe"


def occurrences(url: str, needle: str) -> dict:
    """{table.column: rows containing `needle`} over every string column of every table."""
    engine = create_engine(url, future=True)
    found = {}
    try:
        inspector = inspect(engine)
        with engine.connect() as connection:
            for table in inspector.get_table_names():
                for column in inspector.get_columns(table):
                    if not isinstance(column["type"], (String, Text)):
                        continue
                    count = connection.execute(
                        text(
                            f'SELECT count(*) FROM "{table}" WHERE "{column["name"]}" LIKE :needle'
                        ),
                        {"needle": f"%{needle}%"},
                    ).scalar_one()
                    if count:
                        found[f"{table}.{column['name']}"] = count
    finally:
        engine.dispose()
    return found


def _person(pseudonym: str) -> None:
    repository.record_consent(pseudonym, scope="screening", given=True)
    for checkin in ("c-1", "c-2"):
        repository.record_topic_summary(
            pseudonym,
            checkin_id=checkin,
            topic="fomo",
            score=4.2,
            band="high",
            answers={"fomo_1": 5, "fomo_2": 4, "fomo_3": None},
            elevated=["fomo_1", "fomo_2"],
            skipped=["fomo_3"],
            age_band="13-15",
            country="NL",
            language="nl",
        )
    repository.record_consent(pseudonym, scope="share", given=True)
    repository.set_sharing(pseudonym, checkin_id="c-1", shared=True)
    repository.record_escalation(level="urgent", category="self_harm", pseudonym=pseudonym)


def test_forget_leaves_nothing_for_that_pseudonym(db, tmp_path, caplog):
    store = rasa_sql_store(db, tmp_path)
    save_conversation(store, ERASED, text="hello, this is a conversation to forget")
    save_conversation(store, KEPT)
    dispose(store)
    _person(ERASED)
    _person(KEPT)
    assert set(occurrences(db, ERASED)) >= {
        "checkins.pseudonym",
        "consent_records.pseudonym",
        "escalation_events.pseudonym",
        "events.sender_id",
    }
    kept_before = occurrences(db, KEPT)

    with caplog.at_level(logging.DEBUG, logger="bot"):
        counts = erase_pseudonym(ERASED)

    assert occurrences(db, ERASED) == {}
    # The log line says that an erasure happened and how many rows went; it names nobody.
    [line] = [r.getMessage() for r in caplog.records if r.name == "bot.storage.erase"]
    assert "'checkins': 2" in line and "'events': 7" in line
    assert ERASED not in caplog.text
    assert counts == {
        "checkins": 2,
        "topic_summaries": 2,
        "item_answers": 6,
        "consent_records": 2,
        "escalation_events_anonymised": 1,
        "events": 7,
    }
    assert occurrences(db, KEPT) == kept_before  # nobody else lost anything
    assert count_events(db, KEPT) == 7
    with session_scope(db) as session:
        # the escalation still counts, anonymously
        levels = session.execute(select(EscalationEvent.level, EscalationEvent.pseudonym)).all()
        assert sorted(levels, key=str) == sorted([("urgent", None), ("urgent", KEPT)], key=str)
        # the erasure log holds a time and nothing else
        [entry] = session.execute(select(ErasureEntry)).scalars().all()
        assert entry.erased_at is not None
    assert [
        c["name"] for c in inspect(create_engine(db, future=True)).get_columns("erasure_log")
    ] == ["id", "erased_at"]


def test_forget_without_a_rasa_table_or_any_data(db):
    assert "events" not in inspect(create_engine(db, future=True)).get_table_names()
    counts = erase_pseudonym("never-seen")
    assert set(counts.values()) == {0}
    with session_scope(db) as session:
        assert len(session.execute(select(ErasureEntry)).scalars().all()) == 1


def test_forget_is_repeatable(db):
    _person(ERASED)
    erase_pseudonym(ERASED)
    assert set(erase_pseudonym(ERASED).values()) == {0}
    assert occurrences(db, ERASED) == {}
