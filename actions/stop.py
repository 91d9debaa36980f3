"""/stop: pause the check-in (answers kept if consent was given) with an offer to continue."""

from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActiveLoop, EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.common import checkin_finished, checkin_started


class ActionStop(Action):
    def name(self) -> Text:
        return "action_stop"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[EventType]:
        if checkin_started(tracker) and not checkin_finished(tracker):
            dispatcher.utter_message(response="utter_paused")
        else:
            dispatcher.utter_message(response="utter_stopped_idle")
        if tracker.active_loop_name:
            return [ActiveLoop(None), SlotSet("requested_slot", None)]
        return []
