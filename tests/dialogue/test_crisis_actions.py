"""The crisis path in the action server: reply for the user's country, ASQ acuity, escalations."""
from __future__ import annotations

from sqlalchemy import create_engine, text

from actions.crisis import ActionAcuityOutcome, ActionAskAcuityNow, ActionCrisisResponse, ValidateAcuityForm
from actions.common import user_country
from bot.safety.resources import resources_for
from tests.dialogue.helpers import rendered, run, slot_updates, texts, tracker


def escalations(url: str):
    with create_engine(url, future=True).connect() as connection:
        return connection.execute(text("select level, category, pseudonym from escalation_events")).mappings().all()


def test_concern_mid_checkin_pauses_the_form_sends_resources_and_asks_acuity(database):
    t = tracker(slots={"country": "GB", "consent": True, "requested_slot": "fomo_2"}, intent="risk_disclosure", text="i want to die tbh")
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
    t = tracker(slots={"country": "NL"}, intent="risk_disclosure", text="im going to kill myself tonight", active_loop=None)
    events, dispatcher = run(ActionCrisisResponse(), t)
    first = texts(dispatcher)[0]
    assert "112" in first
    assert slot_updates(events)["crisis_followup"] == "none"
    assert not any(e.get("event") == "active_loop" for e in events)  # nothing was running
    assert escalations(database)[0]["level"] == "urgent"


def test_unknown_country_gets_the_safe_fallback():
    t = tracker(slots={"country": "unknown"}, intent="risk_disclosure", text="i want to kill myself", active_loop=None)
    _, dispatcher = run(ActionCrisisResponse(), t)
    shown = "\n".join(texts(dispatcher))
    assert "findahelpline.com" in shown


def test_country_falls_back_to_an_unambiguous_telegram_language_code():
    t = tracker(slots={"country": None}, metadata={"language_code": "en-GB"}, active_loop=None)
    assert user_country(t) == "GB"


def test_escalation_keeps_the_pseudonym_only_with_consent(database):
    from bot.storage.repository import record_consent

    record_consent("p-consented", scope="screening", given=True)
    run(ActionCrisisResponse(), tracker(slots={"consent": True}, intent="risk_disclosure", text="i want to die", sender="p-consented"))
    run(ActionCrisisResponse(), tracker(slots={"consent": None}, intent="risk_disclosure", text="i want to die", sender="p-anon"))
    pseudonyms = sorted(str(r["pseudonym"]) for r in escalations(database))
    assert pseudonyms == ["None", "p-consented"]
    # never the message itself
    with create_engine(database, future=True).connect() as c:
        dump = " ".join(str(v) for row in c.execute(text("select * from escalation_events")) for v in row)
    assert "die" not in dump


def test_acuity_question_is_the_asq_item_with_yes_no_buttons():
    _, dispatcher = run(ActionAskAcuityNow(), tracker(active_loop="acuity_form"))
    [message] = rendered(dispatcher)
    assert message["text"] == "Are you having thoughts of killing yourself right now?"
    assert [b["payload"] for b in message["buttons"]] == ["/affirm", "/deny"]


def _acuity(intent, text_, reasks=0):
    return run(ValidateAcuityForm(), tracker(slots={"requested_slot": "acuity_now", "reask_count": reasks}, intent=intent, text=text_, active_loop="acuity_form"))


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
        _, dispatcher = run(ActionAcuityOutcome(), tracker(slots={"acuity_now": answer, "country": "US"}, active_loop=None))
        assert "911" in texts(dispatcher)[0] or "988" in texts(dispatcher)[0]


def test_acuity_no_keeps_resources_and_offers_back_to_the_checkin():
    _, dispatcher = run(ActionAcuityOutcome(), tracker(slots={"acuity_now": False, "consent": True, "topics": ["fomo"], "fomo_1": 3}, active_loop=None))
    [message] = rendered(dispatcher)
    assert "go back to the check-in" in message["text"]
    assert [b["payload"] for b in message["buttons"]] == ["/start_screening", "/stop"]


def test_every_supported_country_has_an_emergency_number_in_the_reply():
    for country in ("US", "GB", "NL", "BE", "IE", "DE", "CA", "AU"):
        _, dispatcher = run(ActionCrisisResponse(), tracker(slots={"country": country}, intent="risk_disclosure", text="im going to kill myself tonight", active_loop=None))
        assert resources_for(country).emergency[0] in texts(dispatcher)[0], country
