"""/forget and delete_data: confirm, then have everything for this pseudonym erased.

This action erases nothing itself. utter_forget_done carries the `erase` control message, and the
gateway erases everything (summaries, consent, tracker: bot.storage.erase, one transaction, one
erasure_log row) once Rasa has answered this turn. It cannot happen here: Rasa writes the turn's
events after the action has run, and its SQL tracker store would write back every event of the
session it no longer finds in the table.
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import AllSlotsReset, EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.common import user_just_answered
from actions.profile import parse_yes_no


class ValidateForgetForm(Action):
    def name(self) -> Text:
        return "validate_forget_form"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[EventType]:
        if tracker.get_slot("requested_slot") != "forget_confirmed" or not user_just_answered(
            tracker, "forget_form"
        ):
            return [
                SlotSet(
                    "requested_slot",
                    "forget_confirmed" if tracker.get_slot("forget_confirmed") is None else None,
                )
            ]
        intent = (tracker.latest_message.get("intent") or {}).get("name")
        if intent in ("risk_disclosure", "stop", "goodbye", "change_language"):
            return []  # crisis first; stop stops; a language switch asks again in the new language
        answer: Optional[bool]
        if intent == "delete_data":
            answer = True  # "yes delete it" / pressing /forget again
        else:
            answer = {"affirm": True, "deny": False}.get(
                intent or "", parse_yes_no(tracker.latest_message.get("text"))
            )
        if answer is None:
            answer = False  # never erase on an unclear answer; say so
        return [SlotSet("forget_confirmed", answer), SlotSet("requested_slot", None)]


class ActionForgetOutcome(Action):
    def name(self) -> Text:
        return "action_forget_outcome"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[EventType]:
        if tracker.get_slot("forget_confirmed") is True:
            dispatcher.utter_message(response="utter_forget_done")  # carries the gateway's `erase`
            # Everything goes, except the language the user is reading this in.
            return [AllSlotsReset(), SlotSet("language", tracker.get_slot("language"))]
        dispatcher.utter_message(response="utter_forget_cancelled")
        return [SlotSet("forget_confirmed", None)]
