"""Asking items, starting/resuming/stopping a check-in, session start, erasure confirmation."""

from __future__ import annotations

from rasa_sdk.executor import ActionExecutor

from actions import ask_items
from actions.ask_items import answer_buttons
from actions.forget_form import ActionForgetOutcome, ValidateForgetForm
from actions.greet import ActionGreet, ActionStartCheckin
from actions.session_start import ActionSessionStart
from actions.stop import ActionStop
from bot.screening.content import screening
from tests.dialogue.helpers import controls, rendered, run, slot_updates, texts, tracker


def _executor() -> ActionExecutor:
    executor = ActionExecutor()
    executor.register_package("actions")
    return executor


def test_every_domain_action_is_served_by_the_action_server():
    from tests.dialogue.helpers import DOMAIN

    served = set(_executor().actions)
    missing = [a for a in DOMAIN["actions"] if a not in served]
    assert missing == []


def test_item_question_shows_progress_text_and_answer_buttons():
    ask = ask_items.AskItem_fomo_2()
    _, dispatcher = run(ask, tracker(slots={"topics": ["fomo"], "fomo_1": 3}))
    [message] = rendered(dispatcher)
    assert (
        message["text"]
        == "Question 2 of 5: " + screening().topics["fomo"].item("fomo_2").text["en"]
    )
    assert [b["title"] for b in message["buttons"]] == [
        "Never",
        "Rarely",
        "Sometimes",
        "Often",
        "Very often",
        "Skip",
    ]
    assert all(len(b["payload"].encode()) <= 64 for b in message["buttons"])


def test_the_same_question_in_dutch_for_a_dutch_chat():
    ask = ask_items.AskItem_fomo_1()
    _, dispatcher = run(ask, tracker(slots={"topics": ["fomo"], "language": "nl"}))
    intro, question = rendered(dispatcher, "nl")
    topic = screening().topics["fomo"]
    assert intro["text"] == f"{topic.title['nl']} — {topic.intro['nl']}"
    assert question["text"] == "Vraag 1 van 5: " + topic.item("fomo_1").text["nl"]
    assert [b["title"] for b in question["buttons"]] == [
        "Nooit",
        "Zelden",
        "Soms",
        "Vaak",
        "Heel vaak",
        "Overslaan",
    ]
    assert [b["payload"] for b in question["buttons"]][:2] == ["/answer_never", "/answer_rarely"]


def test_first_question_of_a_topic_is_introduced_once():
    ask = ask_items.AskItem_cyberbullying_1()
    _, first = run(ask, tracker(slots={"topics": ["cyberbullying"]}))
    assert texts(first)[0].startswith(
        "Cyberbullying — This part is about how people treat you online"
    )
    assert texts(first)[1].startswith("Question 1 of 5:")
    _, again = run(ask, tracker(slots={"topics": ["cyberbullying"], "reask_count": 1}))
    assert len(again.messages) == 1


def test_answer_buttons_come_from_the_scale_yaml():
    assert answer_buttons("en")[3] == {"title": "Often", "payload": "/answer_often"}
    assert answer_buttons("nl")[3] == {"title": "Vaak", "payload": "/answer_often"}


def test_session_start_discloses_and_keeps_a_paused_checkin_without_a_stale_question():
    events, dispatcher = run(
        ActionSessionStart(),
        tracker(slots={"consent": True, "fomo_1": 3, "requested_slot": "fomo_2"}, active_loop=None),
    )
    assert "automated assistant" in texts(dispatcher)[0]
    assert controls(dispatcher) == [{"disclosed": True}]
    assert events[0]["event"] == "session_started"
    carried = slot_updates(events)
    assert carried["fomo_1"] == 3 and "requested_slot" not in carried
    assert events[-1]["event"] == "action" and events[-1]["name"] == "action_listen"


def test_greeting_mid_checkin_resumes_where_we_were():
    events, dispatcher = run(
        ActionGreet(),
        tracker(
            slots={"consent": True, "topics": ["fomo"], "fomo_1": 2},
            active_loop=None,
            intent="greet",
        ),
    )
    assert "pick up where we left off" in texts(dispatcher)[0]
    updates = slot_updates(events)
    assert updates["requested_slot"] is None and "fomo_1" not in updates


def test_starting_after_a_finished_checkin_starts_a_new_one_keeping_the_profile():
    finished = {
        "consent": True,
        "age_band": "16-17",
        "country": "GB",
        "topics": ["fomo"],
        **{f"fomo_{i}": 2 for i in range(1, 6)},
        "share_results": False,
        "checkin_id": "old",
    }
    events, _ = run(
        ActionStartCheckin(), tracker(slots=finished, active_loop=None, intent="start_screening")
    )
    updates = slot_updates(events)
    assert (
        updates["fomo_1"] is None
        and updates["share_results"] is None
        and updates["checkin_id"] is None
    )
    assert "consent" not in updates and "country" not in updates


def test_naming_a_topic_outside_the_checkin_preselects_it():
    events, _ = run(
        ActionStartCheckin(),
        tracker(active_loop=None, intent="choose_cyberbullying", text="/choose_cyberbullying"),
    )
    assert slot_updates(events)["topics"] == ["cyberbullying"]


def test_stop_mid_checkin_pauses_with_an_offer_to_continue():
    events, dispatcher = run(
        ActionStop(),
        tracker(slots={"consent": True, "topics": ["fomo"], "fomo_1": 2}, intent="stop"),
    )
    assert "carry on later" in texts(dispatcher)[0]
    assert rendered(dispatcher)[0]["buttons"] == [
        {"title": "Continue the check-in", "payload": "/start_screening"}
    ]
    assert {"event": "active_loop", "name": None, "timestamp": None} in events


def test_stop_with_nothing_running_says_goodbye_and_changes_nothing():
    events, dispatcher = run(ActionStop(), tracker(active_loop=None, intent="stop"))
    assert events == []
    assert "/resources" in texts(dispatcher)[0]


def test_forget_needs_a_clear_yes():
    v = ValidateForgetForm()
    yes, _ = run(
        v,
        tracker(
            slots={"requested_slot": "forget_confirmed"},
            intent="affirm",
            text="yes",
            active_loop="forget_form",
        ),
    )
    assert slot_updates(yes)["forget_confirmed"] is True
    unclear, _ = run(
        v,
        tracker(
            slots={"requested_slot": "forget_confirmed"},
            intent="out_of_scope",
            text="hmm what",
            active_loop="forget_form",
        ),
    )
    assert slot_updates(unclear)["forget_confirmed"] is False
    crisis, _ = run(
        v,
        tracker(
            slots={"requested_slot": "forget_confirmed"},
            intent="risk_disclosure",
            text="i want to die",
            active_loop="forget_form",
        ),
    )
    assert crisis == []


def test_forget_confirmed_leaves_the_one_erasure_to_the_gateway(database):
    from sqlalchemy import create_engine, text

    from bot.storage import repository

    repository.record_consent("pseudonym-abc", scope="screening", given=True)
    events, dispatcher = run(
        ActionForgetOutcome(), tracker(slots={"forget_confirmed": True}, active_loop=None)
    )
    assert controls(dispatcher) == [{"erase": True}]
    # The gateway erases after Rasa has saved this turn (tests/test_erasure_end_to_end.py); an
    # erasure here would be a second one, and its tracker rows would be written back by Rasa anyway.
    engine = create_engine(database, future=True)
    with engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM erasure_log")).scalar_one() == 0
        assert connection.execute(text("SELECT count(*) FROM consent_records")).scalar_one() == 1
    engine.dispose()
    assert "erased" in texts(dispatcher)[0]
    # Everything goes except the language the user reads the confirmation in.
    assert events == [
        {"event": "reset_slots", "timestamp": None},
        {"event": "slot", "timestamp": None, "name": "language", "value": None},
    ]
    events, dispatcher = run(
        ActionForgetOutcome(), tracker(slots={"forget_confirmed": False}, active_loop=None)
    )
    assert controls(dispatcher) == [] and "nothing was erased" in texts(dispatcher)[0]


def test_a_checkin_without_consent_ends_by_having_the_chat_erased():
    from actions.checkin_complete import ActionCheckinComplete

    _, declined = run(
        ActionCheckinComplete(),
        tracker(slots={"consent": False, "country": "GB"}, active_loop=None),
    )
    # utter_consent_declined promised it: the gateway erases once Rasa has saved this turn.
    assert controls(declined) == [{"erase": True}]
    assert texts(declined)[-1] == rendered_goodbye()
    for consent in (True, None):  # with consent, or none asked (help numbers only): kept
        _, kept = run(
            ActionCheckinComplete(),
            tracker(slots={"consent": consent, "country": "GB"}, active_loop=None),
        )
        assert controls(kept) == []
        assert texts(kept) == texts(declined)


def rendered_goodbye() -> str:
    from tests.dialogue.helpers import variation

    return variation("utter_goodbye")["text"]


def test_change_language_with_a_named_language_confirms_in_it():
    from actions.language import ActionChangeLanguage

    t = tracker(
        slots={"language": "nl"},
        intent="change_language",
        text="/change_language",
        active_loop=None,
    )
    t.latest_message["entities"] = [{"entity": "language", "value": "nl"}]
    events, dispatcher = run(ActionChangeLanguage(), t)
    assert events == [] and controls(dispatcher) == [{"language": "nl"}]
    assert texts(dispatcher, "nl") == ["Oké, vanaf nu schrijf ik in het Nederlands."]


def test_change_language_without_a_name_switches_to_the_other_language():
    from actions.language import ActionChangeLanguage

    events, dispatcher = run(
        ActionChangeLanguage(),
        tracker(
            slots={"language": "en"},
            intent="change_language",
            text="can we switch language",
            active_loop=None,
        ),
    )
    assert slot_updates(events) == {"language": "nl"} and controls(dispatcher) == [
        {"language": "nl"}
    ]
    # Rendered by the action itself (Rasa would still see the old slot): Dutch although the slot was en.
    assert texts(dispatcher, "en") == ["Oké, vanaf nu schrijf ik in het Nederlands."]


def test_session_start_takes_the_language_from_telegram_and_discloses_in_it():
    from actions.session_start import ActionSessionStart

    t = tracker(slots={"session_started_metadata": {"language_code": "nl-BE"}}, active_loop=None)
    events, dispatcher = run(ActionSessionStart(), t)
    assert slot_updates(events)["language"] == "nl"
    assert (
        "geautomatiseerde assistent" in texts(dispatcher, "en")[0]
    )  # rendered by the action itself
    events, _ = run(
        ActionSessionStart(),
        tracker(
            slots={"language": "en", "session_started_metadata": {"language_code": "nl"}},
            active_loop=None,
        ),
    )
    assert (
        "language" in slot_updates(events) and slot_updates(events)["language"] == "en"
    )  # a chosen language is kept
