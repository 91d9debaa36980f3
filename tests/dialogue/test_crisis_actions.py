"""The crisis path in the action server: reply for the user's country, the direct check, ASQ
acuity, escalations, the gateway agreement (safety_replied), Dutch, the unknown country; and the
RiskDetector NLU component and the `scrollcheck validate` check of data/rules/crisis.yml."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, text

from actions.acuity import ActionAcuityOutcome, ActionAskAcuityNow, ValidateAcuityForm
from actions.common import user_country
from actions.crisis import ActionCrisisResponse, ActionSetCountry
from actions.direct_check import ActionAskCheckAnswer, ActionCheckOutcome, ValidateCheckForm
from bot.safety import RiskResult
from bot.safety import replies as R
from bot.safety.resources import resources_for
from tests.dialogue.helpers import rendered, run, slot_updates, texts, tracker


def escalations(url: str):
    with create_engine(url, future=True).connect() as connection:
        return (
            connection.execute(text("select level, category, pseudonym from escalation_events"))
            .mappings()
            .all()
        )


def test_concern_mid_checkin_pauses_the_form_sends_resources_and_asks_acuity(database):
    t = tracker(
        slots={"country": "GB", "consent": True, "requested_slot": "fomo_2"},
        intent="risk_disclosure",
        text="i want to die tbh",
    )
    events, dispatcher = run(ActionCrisisResponse(), t)
    shown = "\n".join(texts(dispatcher))
    assert "116 123" in shown  # Samaritans, UK
    assert "999" in shown
    assert {"event": "active_loop", "name": None, "timestamp": None} in events
    updates = slot_updates(events)
    assert updates["crisis_followup"] == "acuity" and updates["requested_slot"] is None
    [row] = escalations(database)
    assert (row["level"], row["category"]) == ("concern", "self_harm")
    assert row["pseudonym"] is None  # no screening consent was recorded for this pseudonym


def test_urgent_puts_the_emergency_number_first_and_asks_nothing(database):
    t = tracker(
        slots={"country": "NL"},
        intent="risk_disclosure",
        text="im going to kill myself tonight",
        active_loop=None,
    )
    events, dispatcher = run(ActionCrisisResponse(), t)
    first = texts(dispatcher)[0]
    assert "112" in first
    assert slot_updates(events)["crisis_followup"] == "none"
    assert not any(e.get("event") == "active_loop" for e in events)  # nothing was running
    assert escalations(database)[0]["level"] == "urgent"


def test_unknown_country_gets_the_safe_fallback():
    t = tracker(
        slots={"country": "unknown"},
        intent="risk_disclosure",
        text="i want to kill myself",
        active_loop=None,
    )
    _, dispatcher = run(ActionCrisisResponse(), t)
    shown = "\n".join(texts(dispatcher))
    assert "findahelpline.com" in shown


def test_country_falls_back_to_an_unambiguous_telegram_language_code():
    t = tracker(slots={"country": None}, metadata={"language_code": "en-GB"}, active_loop=None)
    assert user_country(t) == "GB"


def test_escalation_keeps_the_pseudonym_only_with_consent(database):
    from bot.storage.repository import record_consent

    record_consent("p-consented", scope="screening", given=True)
    run(
        ActionCrisisResponse(),
        tracker(
            slots={"consent": True},
            intent="risk_disclosure",
            text="i want to die",
            sender="p-consented",
        ),
    )
    run(
        ActionCrisisResponse(),
        tracker(
            slots={"consent": None}, intent="risk_disclosure", text="i want to die", sender="p-anon"
        ),
    )
    pseudonyms = sorted(str(r["pseudonym"]) for r in escalations(database))
    assert pseudonyms == ["None", "p-consented"]
    # never the message itself
    with create_engine(database, future=True).connect() as c:
        dump = " ".join(
            str(v) for row in c.execute(text("select * from escalation_events")) for v in row
        )
    assert "die" not in dump


def test_acuity_question_is_the_asq_item_with_yes_no_buttons():
    _, dispatcher = run(ActionAskAcuityNow(), tracker(active_loop="acuity_form"))
    [message] = rendered(dispatcher)
    assert message["text"] == "Are you having thoughts of killing yourself right now?"
    assert [b["payload"] for b in message["buttons"]] == ["/affirm", "/deny"]


def _acuity(intent, text_, reasks=0):
    return run(
        ValidateAcuityForm(),
        tracker(
            slots={"requested_slot": "acuity_now", "reask_count": reasks},
            intent=intent,
            text=text_,
            active_loop="acuity_form",
        ),
    )


def test_acuity_answers():
    assert slot_updates(_acuity("affirm", "yes")[0])["acuity_now"] is True
    assert slot_updates(_acuity("deny", "no")[0])["acuity_now"] is False
    assert slot_updates(_acuity("out_of_scope", "nope")[0])["acuity_now"] is False
    events, dispatcher = _acuity("out_of_scope", "what do you mean")
    assert "acuity_now" not in slot_updates(events) and "yes or no" in texts(dispatcher)[0]
    unclear, _ = _acuity("out_of_scope", "what do you mean", reasks=1)
    assert slot_updates(unclear)["acuity_now"] == "unclear"  # treated like a yes
    assert _acuity("risk_disclosure", "i want to end it")[0] == []


def test_acuity_yes_or_unclear_gets_the_urgent_reply_emergency_first(database):
    for answer in (True, "unclear"):
        _, dispatcher = run(
            ActionAcuityOutcome(),
            tracker(slots={"acuity_now": answer, "country": "US"}, active_loop=None),
        )
        assert "911" in texts(dispatcher)[0] or "988" in texts(dispatcher)[0]


def test_acuity_no_keeps_resources_and_offers_back_to_the_checkin():
    _, dispatcher = run(
        ActionAcuityOutcome(),
        tracker(
            slots={"acuity_now": False, "consent": True, "topics": ["fomo"], "fomo_1": 3},
            active_loop=None,
        ),
    )
    [message] = rendered(dispatcher)
    assert "go back to the check-in" in message["text"]
    assert [b["payload"] for b in message["buttons"]] == ["/start_screening", "/stop"]


def test_every_supported_country_has_an_emergency_number_in_the_reply():
    for country in ("US", "GB", "NL", "BE", "IE", "DE", "CA", "AU"):
        _, dispatcher = run(
            ActionCrisisResponse(),
            tracker(
                slots={"country": country},
                intent="risk_disclosure",
                text="im going to kill myself tonight",
                active_loop=None,
            ),
        )
        assert resources_for(country).emergency[0] in texts(dispatcher)[0], country


# --- issue 9: the direct check, one crisis path, the gateway agreement, Dutch -------------------

CHECK_SELF_HARM = RiskResult("check", "self_harm", ("test",), "en")


def _check_slots(result=CHECK_SELF_HARM, **extra):
    return {"crisis_risk": result.as_dict(), "requested_slot": "check_answer", **extra}


def test_check_level_sets_up_the_direct_question_and_records_no_escalation(database):
    t = tracker(
        slots={"country": "GB", "requested_slot": "fomo_2"},
        intent="risk_disclosure",
        text="nothing matters anymore",
        risk=CHECK_SELF_HARM.as_dict(),
    )
    events, dispatcher = run(ActionCrisisResponse(), t)
    assert texts(dispatcher) == []  # the check form asks (action_ask_check_answer)
    updates = slot_updates(events)
    assert updates["crisis_followup"] == "check" and updates["paused_form"] == "checkin_form"
    assert RiskResult.from_dict(updates["crisis_risk"]).category == "self_harm"
    assert {"event": "active_loop", "name": None, "timestamp": None} in events
    assert escalations(database) == []  # a question is not a crisis escalation

    _, dispatcher = run(
        ActionAskCheckAnswer(),
        tracker(
            slots=_check_slots(), active_loop="check_form", latest_action="action_crisis_response"
        ),
    )
    [message] = rendered(dispatcher)
    assert message["text"] == R.check_question(CHECK_SELF_HARM, "en").text
    assert [b["payload"] for b in message["buttons"]] == ["/affirm", "/deny"]


@pytest.mark.parametrize(
    "text_,expected",
    [
        ("yes", True),
        ("/affirm", True),
        ("idk", True),
        ("im not", False),
        ("/deny", False),
        ("nope", False),
    ],
)
def test_check_answers_use_the_one_parser(text_, expected):
    t = tracker(slots=_check_slots(), intent="out_of_scope", text=text_, active_loop="check_form")
    assert slot_updates(run(ValidateCheckForm(), t)[0])["check_answer"] is expected


def test_unclear_check_answer_is_asked_once_more_then_read_as_yes():
    events, dispatcher = run(
        ValidateCheckForm(),
        tracker(
            slots=_check_slots(),
            intent="out_of_scope",
            text="what do you mean",
            active_loop="check_form",
        ),
    )
    assert "check_answer" not in slot_updates(events) and texts(dispatcher) == [
        R.answer_reask("en").text
    ]
    events, _ = run(
        ValidateCheckForm(),
        tracker(
            slots=_check_slots(reask_count=1),
            intent="out_of_scope",
            text="hmm",
            active_loop="check_form",
        ),
    )
    assert slot_updates(events)["check_answer"] == "unclear"
    # a new risk message is not an answer: the form rejects and the crisis rule answers it
    assert (
        run(
            ValidateCheckForm(),
            tracker(
                slots=_check_slots(),
                intent="risk_disclosure",
                text="i want to die",
                active_loop="check_form",
            ),
        )[0]
        == []
    )


@pytest.mark.parametrize("answer", [True, "unclear"])
def test_check_yes_or_unclear_gives_the_concern_reply_then_acuity(database, answer):
    t = tracker(
        slots={
            "crisis_risk": CHECK_SELF_HARM.as_dict(),
            "check_answer": answer,
            "country": "GB",
            "paused_form": "checkin_form",
        },
        active_loop=None,
    )
    events, dispatcher = run(ActionCheckOutcome(), t)
    expected = R.crisis_reply(RiskResult("concern", "self_harm"), "GB", "en")
    assert texts(dispatcher) == list(expected.messages)
    assert (
        slot_updates(events)["crisis_followup"] == "acuity"
        and slot_updates(events)["paused_form"] is None
    )
    assert [(r["level"], r["category"]) for r in escalations(database)] == [
        ("concern", "self_harm")
    ]


@pytest.mark.parametrize(
    "paused,followup",
    [("checkin_form", "resume_checkin"), ("forget_form", "resume_forget"), (None, "none")],
)
def test_check_no_thanks_and_resumes_what_was_paused(database, paused, followup):
    t = tracker(
        slots={
            "crisis_risk": CHECK_SELF_HARM.as_dict(),
            "check_answer": False,
            "paused_form": paused,
        },
        active_loop=None,
    )
    events, dispatcher = run(ActionCheckOutcome(), t)
    assert texts(dispatcher) == [R.check_no_reply("en")]
    assert slot_updates(events)["crisis_followup"] == followup
    assert escalations(database) == []


@pytest.mark.parametrize(
    "category,level",
    [
        ("eating", "urgent"),
        ("eating", "concern"),
        ("challenge", "urgent"),
        ("challenge", "concern"),
    ],
)
def test_eating_and_challenge_get_their_own_reply_and_no_acuity(database, category, level):
    result = RiskResult(level, category, ("test",), "en")
    events, dispatcher = run(
        ActionCrisisResponse(),
        tracker(
            slots={"country": "US"},
            intent="risk_disclosure",
            text="x",
            risk=result.as_dict(),
            active_loop=None,
        ),
    )
    assert texts(dispatcher) == list(R.crisis_reply(result, "US", "en").messages)
    assert slot_updates(events)["crisis_followup"] == "none"
    assert escalations(database)[0]["category"] == category
    # and their direct check asks their own question
    _, dispatcher = run(
        ActionAskCheckAnswer(),
        tracker(slots=_check_slots(RiskResult("check", category)), active_loop="check_form"),
    )
    assert texts(dispatcher) == [R.check_question(RiskResult("check", category), "en").text]


def test_gateway_already_replied_so_rasa_repeats_nothing_but_records_and_sets_up(database):
    gateway = {
        "language_code": "en",
        "safety_replied": True,
        "risk": RiskResult("concern", "self_harm", ("x",), "en").as_dict(),
    }
    # the RiskDetector's reading is weaker than the gateway's (context): the gateway's counts
    t = tracker(
        slots={"country": "GB"},
        intent="risk_disclosure",
        text="tonight",
        metadata=gateway,
        risk=CHECK_SELF_HARM.as_dict(),
    )
    events, dispatcher = run(ActionCrisisResponse(), t)
    assert rendered(dispatcher) == []
    assert slot_updates(events)["crisis_followup"] == "acuity"
    assert [(r["level"], r["category"]) for r in escalations(database)] == [
        ("concern", "self_harm")
    ]
    # the acuity question is Rasa's to ask (the gateway's fast path sends only the crisis messages)
    _, dispatcher = run(ActionAskAcuityNow(), tracker(metadata=gateway, active_loop="acuity_form"))
    assert texts(dispatcher) == [R.acuity_question("en").text]
    # the direct question, when the gateway has asked it
    check = {**gateway, "risk": CHECK_SELF_HARM.as_dict()}
    _, dispatcher = run(
        ActionAskCheckAnswer(),
        tracker(slots=_check_slots(), metadata=check, active_loop="check_form"),
    )
    assert rendered(dispatcher) == []
    # a tapped "Yes" the gateway answered with the concern reply (RegexMessageHandler keeps intent affirm)
    yes = tracker(
        slots={"crisis_risk": CHECK_SELF_HARM.as_dict(), "check_answer": True, "country": "GB"},
        intent="affirm",
        text="/affirm",
        metadata=gateway,
        active_loop=None,
    )
    events, dispatcher = run(ActionCheckOutcome(), yes)
    assert rendered(dispatcher) == [] and slot_updates(events)["crisis_followup"] == "acuity"
    # a "yes" to the acuity question the gateway answered with the urgent reply
    urgent = {**gateway, "risk": RiskResult("urgent", "self_harm").as_dict()}
    _, dispatcher = run(
        ActionAcuityOutcome(),
        tracker(
            slots={"acuity_now": True, "country": "GB"},
            intent="affirm",
            text="/affirm",
            metadata=urgent,
            active_loop=None,
        ),
    )
    assert rendered(dispatcher) == []
    assert [r["level"] for r in escalations(database)] == ["concern", "concern", "urgent"]


def test_dutch_crisis_path_end_to_end_in_dutch(database):
    nl = {"language_code": "nl"}
    result = RiskResult("concern", "self_harm", ("x",), "nl")
    events, dispatcher = run(
        ActionCrisisResponse(),
        tracker(
            slots={"country": "NL"},
            intent="risk_disclosure",
            text="ik wil dood",
            metadata=nl,
            risk=result.as_dict(),
        ),
    )
    assert texts(dispatcher) == list(R.crisis_reply(result, "NL", "nl").messages)
    crisis_risk = slot_updates(events)["crisis_risk"]
    _, dispatcher = run(
        ActionAskAcuityNow(),
        tracker(slots={"crisis_risk": crisis_risk}, metadata=nl, active_loop="acuity_form"),
    )
    assert texts(dispatcher) == [R.acuity_question("nl").text]
    events, _ = run(
        ValidateAcuityForm(),
        tracker(
            slots={"crisis_risk": crisis_risk, "requested_slot": "acuity_now"},
            intent="deny",
            text="nee hoor",
            metadata=nl,
            active_loop="acuity_form",
        ),
    )
    assert slot_updates(events)["acuity_now"] is False
    _, dispatcher = run(
        ActionAcuityOutcome(),
        tracker(
            slots={"crisis_risk": crisis_risk, "acuity_now": False}, metadata=nl, active_loop=None
        ),
    )
    assert texts(dispatcher) == [R.acuity_no_reply("nl", in_checkin=False).text]
    # the direct check in Dutch, and its "no"
    check = RiskResult("check", "self_harm", ("x",), "nl")
    _, dispatcher = run(
        ActionAskCheckAnswer(),
        tracker(slots=_check_slots(check), metadata=nl, active_loop="check_form"),
    )
    assert texts(dispatcher) == [R.check_question(check, "nl").text]
    _, dispatcher = run(
        ActionCheckOutcome(),
        tracker(
            slots={"crisis_risk": check.as_dict(), "check_answer": False},
            metadata=nl,
            active_loop=None,
        ),
    )
    assert texts(dispatcher) == [R.check_no_reply("nl")]


def test_the_message_language_wins_over_the_users():
    result = RiskResult("concern", "abuse", ("x",), "nl")  # a Dutch message from an English user
    _, dispatcher = run(
        ActionCrisisResponse(),
        tracker(
            slots={"country": "BE"},
            intent="risk_disclosure",
            text="x",
            metadata={"language_code": "en"},
            risk=result.as_dict(),
            active_loop=None,
        ),
    )
    assert texts(dispatcher) == list(R.crisis_reply(result, "BE", "nl").messages)


def test_unknown_country_urgent_ends_with_the_country_buttons_and_a_tap_sets_it(database):
    result = RiskResult("urgent", "self_harm", ("x",), "en")
    events, dispatcher = run(
        ActionCrisisResponse(),
        tracker(
            slots={"country": None},
            intent="risk_disclosure",
            text="x",
            risk=result.as_dict(),
            active_loop=None,
        ),
    )
    expected = R.crisis_reply(result, None, "en")
    messages = rendered(dispatcher)
    assert [m["text"] for m in messages] == list(expected.messages)
    assert [(b["title"], b["payload"]) for b in messages[-1]["buttons"]] == list(expected.buttons)
    assert (
        any("112" in m for m in expected.messages)
        and slot_updates(events)["crisis_followup"] == "country"
    )
    # the tap: /inform{"country":"NL"} (the entity as Rasa's RegexMessageHandler extracts it)
    payload = next(p for _, p in expected.buttons if '"NL"' in p)
    tap = tracker(
        intent="inform", text=payload, active_loop=None, slots={"crisis_followup": "country"}
    )
    tap.latest_message["entities"] = [{"entity": "country", "value": "NL"}]
    events, dispatcher = run(ActionSetCountry(), tap)
    assert slot_updates(events) == {"country": "NL", "crisis_followup": None}
    assert texts(dispatcher) == [R.resources_text("NL", "en")]
    # typed, while the acuity question is open: set, numbers shown, the question comes again
    typed = tracker(
        slots={"requested_slot": "acuity_now"},
        intent="inform",
        text="ireland",
        active_loop="acuity_form",
    )
    events, dispatcher = run(ValidateAcuityForm(), typed)
    assert slot_updates(events) == {"country": "IE", "requested_slot": "acuity_now"}
    assert texts(dispatcher) == [R.resources_text("IE", "en")]


def test_acuity_yes_without_a_country_asks_for_it(database):
    events, dispatcher = run(
        ActionAcuityOutcome(),
        tracker(slots={"acuity_now": "unclear", "country": None}, active_loop=None),
    )
    messages = rendered(dispatcher)
    assert [m["text"] for m in messages] == [
        *R.urgent_reply(None, "en"),
        R.country_question("en").text,
    ]
    assert slot_updates(events)["crisis_followup"] == "country"


def test_a_yes_with_risk_words_inside_the_acuity_question_is_the_urgent_path(database):
    concern = RiskResult("concern", "self_harm", ("x",), "en")
    t = tracker(
        slots={"crisis_risk": concern.as_dict(), "country": "GB", "requested_slot": "acuity_now"},
        intent="risk_disclosure",
        text="yes i want to die",
        risk=concern.as_dict(),
        active_loop="acuity_form",
    )
    events, dispatcher = run(ActionCrisisResponse(), t)
    assert texts(dispatcher) == list(R.urgent_reply("GB", "en"))
    assert slot_updates(events)["crisis_followup"] == "none"
    assert [r["level"] for r in escalations(database)] == ["urgent"]


def test_no_user_text_is_written_in_the_crisis_actions():
    import ast

    from bot import PROJECT_ROOT

    for name in ("crisis.py", "acuity.py", "direct_check.py"):
        tree = ast.parse((PROJECT_ROOT / "actions" / name).read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and getattr(node.func, "attr", "") == "utter_message":
                for keyword in node.keywords:
                    assert keyword.arg != "text" or not isinstance(keyword.value, ast.Constant), (
                        f"{name}:{node.lineno}"
                    )


# --- the RiskDetector NLU component: the gateway's reading and its own ---------------------------
def _nlu(text_, metadata=None, intent="greet"):
    from rasa.shared.nlu.training_data.message import Message

    from bot.nlp.risk_component import RiskDetector

    message = Message(
        data={
            "text": text_,
            "metadata": metadata,
            "intent": {"name": intent, "confidence": 0.9},
            "intent_ranking": [],
        }
    )
    RiskDetector(RiskDetector.get_default_config()).process([message])
    return message


def test_risk_component_takes_the_strongest_of_metadata_and_its_own_reading():
    urgent = RiskResult("urgent", "self_harm", ("context",), "en").as_dict()
    message = _nlu(
        "tonight", {"risk": urgent, "safety_replied": True}
    )  # only urgent with its context
    assert (
        message.get("intent")["name"] == "risk_disclosure"
        and message.get("risk")["level"] == "urgent"
    )
    from bot.safety import detect

    own = _nlu("i want to kill myself", {"risk": RiskResult("check", "self_harm").as_dict()})
    assert (
        own.get("risk")["level"] == detect("i want to kill myself", "en").level != "check"
    )  # its own is stronger
    assert (
        _nlu("i want to kill myself").get("intent")["name"] == "risk_disclosure"
    )  # no gateway: its own
    assert (
        _nlu("hi there", {"risk": {"level": "bogus"}}).get("intent")["name"] == "greet"
    )  # malformed: ignored


# --- `scrollcheck validate`: crisis rules for every form --------------------------------------------
def test_validate_names_crisis_yml_when_a_form_has_no_risk_rule(tmp_path):
    import yaml

    from bot import PROJECT_ROOT
    from bot.content.validate import check_crisis_rules

    rules = PROJECT_ROOT / "data" / "rules" / "crisis.yml"
    assert check_crisis_rules(PROJECT_ROOT / "domain.yml", rules) == []
    domain = yaml.safe_load((PROJECT_ROOT / "domain.yml").read_text(encoding="utf-8"))
    domain["forms"]["new_form"] = {"required_slots": ["consent"]}
    (tmp_path / "domain.yml").write_text(yaml.safe_dump(domain), encoding="utf-8")
    [error] = check_crisis_rules(tmp_path / "domain.yml", rules)
    assert error.path.endswith("data/rules/crisis.yml") and "new_form" in str(error)


def test_a_check_with_nothing_open_resumes_nothing_even_after_an_earlier_pause():
    # the user stopped during an earlier direct check: paused_form is stale, nothing may resume
    t = tracker(
        slots={"paused_form": "checkin_form"},
        intent="risk_disclosure",
        text="x",
        risk=CHECK_SELF_HARM.as_dict(),
        active_loop=None,
    )
    assert slot_updates(run(ActionCrisisResponse(), t)[0])["paused_form"] is None
    # a direct check inside the acuity question keeps what that had paused
    t = tracker(
        slots={
            "paused_form": "checkin_form",
            "crisis_risk": RiskResult("concern", "self_harm").as_dict(),
        },
        intent="risk_disclosure",
        text="x",
        risk=CHECK_SELF_HARM.as_dict(),
        active_loop="acuity_form",
    )
    assert slot_updates(run(ActionCrisisResponse(), t)[0])["paused_form"] == "checkin_form"
