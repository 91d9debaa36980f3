"""Starting and resuming a check-in (greet, start_screening, a topic named outside the form)."""

from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.checkin_form import choose_intents
from actions.common import checkin_finished, checkin_started, reset_checkin_events


def _begin(
    dispatcher: CollectingDispatcher, tracker: Tracker, *, greeting: bool
) -> List[EventType]:
    """Events that set up the check-in the form is about to run (new or resumed)."""
    intent = (tracker.latest_message.get("intent") or {}).get("name")
    if checkin_started(tracker) and not checkin_finished(tracker):
        dispatcher.utter_message(response="utter_resume_checkin")
        return [SlotSet("requested_slot", None), SlotSet("reask_count", 0)]
    events: List[EventType] = []
    if checkin_finished(tracker):
        events += reset_checkin_events()  # a new check-in; consent, age band, country are kept
    elif not greeting:
        dispatcher.utter_message(response="utter_start_checkin")
    events.append(SlotSet("requested_slot", None))
    chosen = choose_intents().get(intent or "")
    if chosen:
        events.append(SlotSet("topics", chosen))
    return events


class ActionGreet(Action):
    def name(self) -> Text:
        return "action_greet"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[EventType]:
        return _begin(dispatcher, tracker, greeting=True)


class ActionStartCheckin(Action):
    def name(self) -> Text:
        return "action_start_checkin"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[EventType]:
        return _begin(dispatcher, tracker, greeting=False)


class ActionNotInCheckin(Action):
    """An answer or yes/no arrived while no question is open: offer to start a check-in."""

    def name(self) -> Text:
        return "action_not_in_checkin"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[EventType]:
        dispatcher.utter_message(response="utter_not_in_checkin")
        return []
