"""End of a check-in: where to get help for the user's country, and a goodbye.

Without consent the chat itself goes too: utter_consent_declined promised "I won't keep your
answers", and Rasa's tracker holds them as chat text. The action asks the gateway to erase, as for
/forget (bot/storage/erase.py), and the gateway does it once Rasa has saved this turn.
"""

from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher

from actions.common import control, user_country, user_language
from bot.safety.replies import resources_text


class ActionCheckinComplete(Action):
    def name(self) -> Text:
        return "action_checkin_complete"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[EventType]:
        lang = user_language(tracker)
        dispatcher.utter_message(
            response="utter_checkin_resources",
            resources=resources_text(user_country(tracker), lang),
        )
        dispatcher.utter_message(response="utter_goodbye")
        if tracker.get_slot("consent") is False:
            dispatcher.utter_message(json_message=control(erase=True))
        return []
