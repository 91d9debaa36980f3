"""What the actions write to a real (SQLite) database: results with consent, nothing without."""

from __future__ import annotations

from sqlalchemy import create_engine, text

from actions.checkin_form import ValidateCheckinForm
from tests.dialogue.helpers import run, tracker

ANSWERED = {
    "topics": ["fomo", "comparison"],
    "age_band": "16-17",
    "country": "GB",
    "checkin_id": "c-1",
    "fomo_1": 5,
    "fomo_2": 4,
    "fomo_3": "skipped",
    "fomo_4": 4,
    "requested_slot": "fomo_5",
}


def rows(url: str, sql: str):
    with create_engine(url, future=True).connect() as connection:
        return connection.execute(text(sql)).mappings().all()


def _give_consent(url: str, pseudonym: str, given: bool) -> None:
    run(
        ValidateCheckinForm(),
        tracker(
            slots={"requested_slot": "consent"},
            intent="affirm" if given else "deny",
            text="",
            sender=pseudonym,
        ),
    )


def test_topic_summary_is_saved_at_the_end_of_each_topic_with_consent(database):
    _give_consent(database, "p-yes", True)
    run(
        ValidateCheckinForm(),
        tracker(
            slots={**ANSWERED, "consent": True},
            intent="answer_often",
            text="/answer_often",
            sender="p-yes",
            metadata={"language_code": "en"},
        ),
    )
    [summary] = rows(database, "select * from topic_summaries")
    assert (
        summary["topic"] == "fomo"
        and summary["band"] == "high"
        and abs(summary["score"] - 4.25) < 1e-9
    )
    answers = {
        r["item_id"]: r["value"] for r in rows(database, "select item_id, value from item_answers")
    }
    assert answers == {"fomo_1": 5, "fomo_2": 4, "fomo_3": None, "fomo_4": 4, "fomo_5": 4}
    # only ids and numbers: no question or chat text anywhere in the answer rows
    assert not any(
        "How often" in str(v)
        for r in rows(database, "select * from item_answers")
        for v in r.values()
    )


def test_nothing_is_saved_without_consent(database):
    _give_consent(database, "p-no", False)
    run(
        ValidateCheckinForm(),
        tracker(
            slots={**ANSWERED, "consent": False},
            intent="answer_often",
            text="/answer_often",
            sender="p-no",
        ),
    )
    assert rows(database, "select * from topic_summaries") == []
    assert rows(database, "select * from item_answers") == []


def test_share_answer_marks_the_checkin_shared(database):
    _give_consent(database, "p-share", True)
    done = {**ANSWERED, "consent": True, "fomo_5": 2, "topics": ["fomo"]}
    done.pop("requested_slot")
    run(
        ValidateCheckinForm(),
        tracker(
            slots={**done, "requested_slot": "fomo_5", "fomo_5": None},
            intent="answer_rarely",
            text="/answer_rarely",
            sender="p-share",
        ),
    )
    run(
        ValidateCheckinForm(),
        tracker(
            slots={**done, "requested_slot": "share_results"},
            intent="affirm",
            text="/affirm",
            sender="p-share",
        ),
    )
    shared = rows(database, "select shared from checkins")
    assert [bool(r["shared"]) for r in shared] == [True]
