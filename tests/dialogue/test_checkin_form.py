"""The check-in form's validator: what each answer means, re-asks, skips, feedback per topic."""

from __future__ import annotations

import pytest

from actions.checkin_form import MAX_REASKS, SKIPPED, ValidateCheckinForm
from tests.dialogue.helpers import controls, run, slot_updates, texts, tracker

FULL_PROFILE = {"consent": True, "age_band": "16-17", "country": "GB", "checkin_id": "c1"}


def validate(**kwargs):
    events, dispatcher = run(ValidateCheckinForm(), tracker(**kwargs))
    return slot_updates(events), texts(dispatcher), events, dispatcher


def test_activation_asks_for_consent_first():
    updates, shown, _, _ = validate(
        latest_action="action_greet", active_loop=None, intent="greet", text="hi"
    )
    assert updates == {"requested_slot": "consent"}
    assert shown == []


def test_consent_yes_creates_a_checkin_and_moves_to_age():
    updates, _, _, _ = validate(slots={"requested_slot": "consent"}, intent="affirm", text="yes")
    assert updates["consent"] is True
    assert len(updates["checkin_id"]) == 32
    assert updates["requested_slot"] == "age_band"


def test_consent_no_is_respected_and_said_plainly():
    updates, shown, _, _ = validate(slots={"requested_slot": "consent"}, intent="deny", text="nah")
    assert updates["consent"] is False
    assert any("won't keep your answers: this chat is deleted when we finish" in s for s in shown)


@pytest.mark.parametrize(
    "text,band",
    [
        ("16-17", "16-17"),
        ("i'm 14", "13-15"),
        ("18–25", "18-25"),
        ("prefer not to say", "prefer_not_to_say"),
        ("im 30", "outside_range"),
    ],
)
def test_age_band_from_buttons_and_typing(text, band):
    updates, _, _, _ = validate(
        slots={"requested_slot": "age_band", "consent": True}, intent="inform", text=text
    )
    assert updates["age_band"] == band
    assert updates["requested_slot"] == "country"


@pytest.mark.parametrize(
    "text,code",
    [
        ("UK", "GB"),
        ("i live in the netherlands", "NL"),
        ("Belgium", "BE"),
        ("somewhere else", "unknown"),
    ],
)
def test_country_is_understood_and_told_to_the_gateway(text, code):
    updates, _, _, dispatcher = validate(
        slots={"requested_slot": "country", "consent": True, "age_band": "16-17"},
        intent="inform",
        text=text,
    )
    assert updates["country"] == code
    assert controls(dispatcher) == [{"country": None if code == "unknown" else code}]
    assert updates["requested_slot"] == "topics"


def test_choosing_all_three_topics_lines_up_fifteen_questions():
    updates, _, _, _ = validate(
        slots={"requested_slot": "topics", **FULL_PROFILE}, intent="choose_all", text="/choose_all"
    )
    assert updates["topics"] == ["comparison", "fomo", "cyberbullying"]
    assert updates["requested_slot"] == "comparison_1"


def test_button_answer_fills_the_item_and_moves_on():
    slots = {"requested_slot": "fomo_2", "topics": ["fomo"], "fomo_1": 3, **FULL_PROFILE}
    updates, _, _, _ = validate(slots=slots, intent="answer_often", text="/answer_often")
    assert updates["fomo_2"] == 4
    assert updates["requested_slot"] == "fomo_3"


@pytest.mark.parametrize(
    "text,value", [("3", 3), ("very often tbh", 5), ("skip", SKIPPED), ("pass", SKIPPED)]
)
def test_typed_answers_are_parsed_whatever_the_intent(text, value):
    slots = {"requested_slot": "fomo_1", "topics": ["fomo"], **FULL_PROFILE}
    updates, _, _, _ = validate(slots=slots, intent="affirm", text=text)
    assert updates["fomo_1"] == value


@pytest.mark.parametrize(
    "intent",
    [
        "ask_why",
        "ask_privacy",
        "ask_bot_identity",
        "request_diagnosis",
        "request_resources",
        "out_of_scope",
        "stop",
        "risk_disclosure",
    ],
)
def test_interruptions_are_not_answers_so_the_form_rejects(intent):
    slots = {"requested_slot": "fomo_1", "topics": ["fomo"], **FULL_PROFILE}
    _, shown, events, _ = validate(slots=slots, intent=intent, text="why do you want to know that")
    assert events == []  # no events -> Rasa's form rejects and the interruption rule answers
    assert shown == []


def test_risk_is_never_read_as_an_answer_even_if_it_parses():
    slots = {"requested_slot": "fomo_1", "topics": ["fomo"], **FULL_PROFILE}
    _, _, events, _ = validate(slots=slots, intent="risk_disclosure", text="often i want to die")
    assert events == []


def test_unclear_answer_is_reasked_twice_then_skipped():
    slots = {"requested_slot": "comparison_1", "topics": ["comparison"], **FULL_PROFILE}
    reasks = 0
    for attempt in range(MAX_REASKS):
        updates, shown, _, _ = validate(
            slots=slots | {"reask_count": reasks}, intent="affirm", text="hmm banana"
        )
        reasks = updates["reask_count"]
        assert reasks == attempt + 1
        assert "comparison_1" not in updates
        assert updates["requested_slot"] == "comparison_1"
        assert any("didn't get that" in s for s in shown)
    updates, shown, _, _ = validate(
        slots=slots | {"reask_count": reasks}, intent="affirm", text="hmm banana"
    )
    assert updates["comparison_1"] == SKIPPED
    assert updates["reask_count"] == 0
    assert updates["requested_slot"] == "comparison_2"
    assert any("skip that one" in s for s in shown)


def test_last_item_of_a_topic_gives_non_diagnostic_feedback_with_tips():
    slots = {
        "requested_slot": "comparison_5",
        "topics": ["comparison", "fomo"],
        **FULL_PROFILE,
        "comparison_1": 5,
        "comparison_2": 4,
        "comparison_3": 4,
        "comparison_4": 5,
    }
    updates, shown, _, _ = validate(slots=slots, intent="answer_often", text="/answer_often")
    feedback = "\n".join(shown)
    assert "Social comparison: Your answers suggest you often compare yourself" in feedback
    assert feedback.count("• ") == 3
    assert "you have" not in feedback.lower()
    assert updates["requested_slot"] == "fomo_1"  # the next topic starts


def test_mostly_skipped_topic_says_so_instead_of_a_band():
    slots = {
        "requested_slot": "fomo_5",
        "topics": ["fomo"],
        **FULL_PROFILE,
        "fomo_1": SKIPPED,
        "fomo_2": SKIPPED,
        "fomo_3": 2,
        "fomo_4": SKIPPED,
    }
    _, shown, _, _ = validate(slots=slots, intent="skip_question", text="/skip_question")
    assert any("can't say much here" in s for s in shown)


def test_share_question_comes_last_only_with_consent():
    done = {f"fomo_{i}": 2 for i in range(1, 5)}
    with_consent, _, _, _ = validate(
        slots={"requested_slot": "fomo_5", "topics": ["fomo"], **FULL_PROFILE, **done},
        intent="answer_never",
        text="/answer_never",
    )
    assert with_consent["requested_slot"] == "share_results"
    without, _, _, _ = validate(
        slots={
            "requested_slot": "fomo_5",
            "topics": ["fomo"],
            **FULL_PROFILE,
            "consent": False,
            **done,
        },
        intent="answer_never",
        text="/answer_never",
    )
    assert without["requested_slot"] is None  # form complete


def test_resuming_after_an_interruption_does_not_reread_the_old_message():
    slots = {"requested_slot": "fomo_1", "topics": ["fomo"], **FULL_PROFILE}
    updates, shown, _, _ = validate(
        slots=slots, intent="ask_why", text="why", latest_action="utter_why"
    )
    assert updates == {"requested_slot": "fomo_1"}
    assert shown == []
