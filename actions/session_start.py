"""Session start: say what the bot is (not a human, not a therapist) before anything else."""
from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActionExecuted, EventType, SessionStarted, SlotSet
from rasa_sdk.executor import CollectingDispatcher


class ActionSessionStart(Action):
    def name(self) -> Text:
        return "action_session_start"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[EventType]:
        # Carry slots over (a paused check-in survives an idle hour), but not the form's
        # requested_slot: a stale one would make the resumed form misread the next message.
        carried = [
            SlotSet(name, value)
            for name, value in tracker.slots.items()
            if value is not None and name not in ("requested_slot", "session_started_metadata")
        ]
        dispatcher.utter_message(response="utter_disclosure")
        return [SessionStarted(), *carried, ActionExecuted("action_listen")]
