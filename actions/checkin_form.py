"""Validator of `checkin_form`: consent, age band, country, topics, the items, sharing.

It owns extraction for every slot of the form (all mapped `type: custom` in domain.yml), so that
one place decides what an answer means:
- a message it cannot use and whose intent is an interruption (ask_why, stop, risk, …) yields no
  events, the form rejects, and a rule answers the interruption before the form resumes;
- an unclear answer is re-asked at most MAX_REASKS times, then recorded as skipped;
- when the last item of a topic is answered, that topic's feedback is given and its summary saved.
"""

from __future__ import annotations

import re
import uuid
from typing import Any, Dict, List, Optional, Text, Tuple

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import storage
from actions.common import CHECKIN_FORM, chosen_topics, content, control, user_just_answered
from actions.profile import (
    OUTSIDE_RANGE,
    PREFER_NOT,
    UNKNOWN_COUNTRY,
    parse_age_band,
    parse_country,
    parse_yes_no,
)
from actions.topic_feedback import give_topic_feedback
from bot.screening.answers import parse_answer
from bot.screening.content import SKIP_INTENT

MAX_REASKS = 2
SKIPPED = "skipped"
# A pressed Yes/No button arrives as an intent; typed answers go through parse_yes_no.
_YES_NO_INTENTS: Dict[str, Optional[bool]] = {"affirm": True, "deny": False}
# Intents that mean "not an answer": the form rejects and a rule handles them, then resumes.
INTERRUPTIONS = frozenset(
    {
        "ask_why",
        "ask_privacy",
        "ask_bot_identity",
        "request_diagnosis",
        "request_resources",
        "out_of_scope",
        "stop",
        "delete_data",
        "goodbye",
        "thank",
        "greet",
        "start_screening",
        "risk_disclosure",
        "change_language",
    }
)


def choose_intents() -> Dict[str, List[str]]:
    """choose_<topic> -> [topic], choose_all -> every topic (data/screening/topics.yml)."""
    return content().choose_intents()


def required_slots(tracker: Tracker) -> List[str]:
    if tracker.get_slot("consent") is None:
        return ["consent", "age_band", "country", "topics"]
    slots = ["consent", "age_band", "country", "topics"]
    for topic_id in chosen_topics(tracker):
        slots += [item.id for item in content().topics[topic_id].items]
    if tracker.get_slot("consent") is True:
        slots.append("share_results")
    return slots


def next_slot(tracker: Tracker, updates: Dict[str, Any]) -> Optional[str]:
    merged = {**tracker.slots, **updates}
    view = _SlotView(tracker, merged)
    return next((s for s in required_slots(view) if merged.get(s) is None), None)


class _SlotView:
    """A tracker stand-in whose slots include this turn's updates (for required_slots)."""

    def __init__(self, tracker: Tracker, slots: Dict[str, Any]) -> None:
        self._slots = slots

    def get_slot(self, name: str) -> Any:
        return self._slots.get(name)


class ValidateCheckinForm(Action):
    def name(self) -> Text:
        return f"validate_{CHECKIN_FORM}"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[EventType]:
        requested = tracker.get_slot("requested_slot")
        # Only a fresh user message answers the requested slot: not the form's activation, and
        # not its return after an interruption (then the latest action is the interruption's).
        if requested and user_just_answered(tracker, CHECKIN_FORM):
            updates = self._extract(requested, dispatcher, tracker)
            if updates is None:
                return []  # not an answer: reject, so the interruption rules can run
        else:
            updates = {}
        events = [SlotSet(k, v) for k, v in updates.items()]
        events.append(SlotSet("requested_slot", next_slot(tracker, updates)))
        return events

    # --- extraction per slot -------------------------------------------------------------
    def _extract(
        self, slot: str, dispatcher: CollectingDispatcher, tracker: Tracker
    ) -> Optional[Dict[str, Any]]:
        intent = (tracker.latest_message.get("intent") or {}).get("name")
        text = tracker.latest_message.get("text") or ""
        if intent == "risk_disclosure":
            return None  # crisis wins over everything: never read a risk message as an answer
        if slot == "consent":
            answer = _YES_NO_INTENTS.get(intent or "", parse_yes_no(text))
            return self._settle(slot, answer, intent, dispatcher, tracker, fallback=False)
        if slot == "age_band":
            return self._settle(
                slot, parse_age_band(text), intent, dispatcher, tracker, fallback=PREFER_NOT
            )
        if slot == "country":
            return self._settle(
                slot, parse_country(text), intent, dispatcher, tracker, fallback=UNKNOWN_COUNTRY
            )
        if slot == "topics":
            topics = choose_intents().get(intent or "") or _parse_topics(text)
            return self._settle(
                slot, topics, intent, dispatcher, tracker, fallback=list(content().topic_order)
            )
        if slot == "share_results":
            answer = _YES_NO_INTENTS.get(intent or "", parse_yes_no(text))
            return self._settle(slot, answer, intent, dispatcher, tracker, fallback=False)
        return self._settle(
            slot, _parse_item_answer(intent, text), intent, dispatcher, tracker, fallback=SKIPPED
        )

    def _settle(
        self,
        slot: str,
        value: Any,
        intent: Optional[str],
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        *,
        fallback: Any,
    ) -> Optional[Dict[str, Any]]:
        if value is None and intent in INTERRUPTIONS:
            return None
        if value is None:
            reasks = int(tracker.get_slot("reask_count") or 0) + 1
            if reasks <= MAX_REASKS:
                dispatcher.utter_message(response=_reask_response(slot))
                return {"reask_count": reasks}
            if slot in content().item_slots:
                dispatcher.utter_message(response="utter_item_skipped_unclear")
            value = fallback
        updates: Dict[str, Any] = {slot: value, "reask_count": 0}
        updates.update(self._after_fill(slot, value, dispatcher, tracker))
        return updates

    # --- side effects once a slot is filled ------------------------------------------------
    def _after_fill(
        self, slot: str, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker
    ) -> Dict[str, Any]:
        pseudonym = tracker.sender_id
        extra: Dict[str, Any] = {}
        if slot == "consent":
            checkin_id = tracker.get_slot("checkin_id") or uuid.uuid4().hex
            extra["checkin_id"] = checkin_id
            if value is True:
                storage.record_consent(pseudonym, scope="screening", given=True)
            else:
                storage.record_consent(pseudonym, scope="screening", given=False)
                dispatcher.utter_message(response="utter_consent_declined")
        elif slot == "age_band" and value == OUTSIDE_RANGE:
            dispatcher.utter_message(response="utter_age_outside_range")
        elif slot == "country":
            dispatcher.utter_message(
                json_message=control(country=None if value == UNKNOWN_COUNTRY else value)
            )
        elif slot == "share_results":
            checkin_id = tracker.get_slot("checkin_id") or "unknown"
            storage.record_consent(pseudonym, scope="share", given=bool(value))
            storage.set_sharing(pseudonym, checkin_id=checkin_id, shared=bool(value))
            dispatcher.utter_message(response="utter_share_yes" if value else "utter_share_no")
        elif slot in content().item_slots:
            topic = content().topic_of_item(slot)
            tracker.slots[slot] = value  # so scoring sees this turn's answer
            if all(tracker.get_slot(item.id) is not None for item in topic.items):
                give_topic_feedback(dispatcher, tracker, topic.id)
        return extra


def _reask_response(slot: str) -> str:
    if slot in ("consent", "age_band", "country", "topics"):
        return f"utter_reask_{slot}"
    if slot == "share_results":
        return "utter_reask_share_results"
    return "utter_reask_item"


def _parse_item_answer(intent: Optional[str], text: str) -> Any:
    screening = content()
    point = screening.point_for_intent(intent or "")
    if point is not None:
        return point.value
    if intent == SKIP_INTENT or _starts_with_any(text, screening.skip.words):
        return SKIPPED
    return parse_answer(text, screening)


def _words_of(text: str) -> str:
    return (
        " "
        + " ".join(re.findall(r"[^\W_]+(?:'[^\W_]+)?|\d+", text.lower().replace("\u2019", "'")))
        + " "
    )


def _starts_with_any(text: str, phrases: Tuple[str, ...]) -> bool:
    words = _words_of(text)
    return any(words.startswith(" " + " ".join(_words_of(p).split()) + " ") for p in phrases)


def _parse_topics(text: str) -> Optional[List[str]]:
    """Typed topic choices ("comparing and fomo", "alles"): the words in data/screening/."""
    screening = content()
    words = _words_of(text)
    if any(f" {w} " in words for w in screening.all_topics.words):
        return list(screening.topic_order)
    lowered = text.lower()
    found = [t.id for t in screening.topics.values() if any(w in lowered for w in t.words)]
    return found or None
