"""/forget and delete_data: confirm, then erase everything for this pseudonym.

The summaries are erased here; the Rasa tracker is erased by the gateway after this turn (the
`erase` control message in utter_forget_done), because Rasa writes the tracker after the action.
"""
from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import AllSlotsReset, EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import storage
from actions.common import user_just_answered
from actions.profile import parse_yes_no


class ValidateForgetForm(Action):
    def name(self) -> Text:
        return "validate_forget_form"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[EventType]:
        if tracker.get_slot("requested_slot") != "forget_confirmed" or not user_just_answered(tracker, "forget_form"):
            return [SlotSet("requested_slot", "forget_confirmed" if tracker.get_slot("forget_confirmed") is None else None)]
        intent = (tracker.latest_message.get("intent") or {}).get("name")
        if intent in ("risk_disclosure", "stop", "goodbye", "change_language"):
            return []  # crisis first; stop stops; a language switch asks again in the new language
        if intent == "delete_data":
            answer = True  # "yes delete it" / pressing /forget again
        else:
            answer = {"affirm": True, "deny": False}.get(intent or "", parse_yes_no(tracker.latest_message.get("text")))
        if answer is None:
            answer = False  # never erase on an unclear answer; say so
        return [SlotSet("forget_confirmed", answer), SlotSet("requested_slot", None)]


class ActionForgetOutcome(Action):
    def name(self) -> Text:
        return "action_forget_outcome"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[EventType]:
        if tracker.get_slot("forget_confirmed") is True:
            storage.erase_summaries(tracker.sender_id)
            dispatcher.utter_message(response="utter_forget_done")
            # Everything goes, except the language the user is reading this in.
            return [AllSlotsReset(), SlotSet("language", tracker.get_slot("language"))]
        dispatcher.utter_message(response="utter_forget_cancelled")
        return [SlotSet("forget_confirmed", None)]
