"""End of a check-in: where to get help for the user's country, and a goodbye."""

from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher

from actions.common import user_country, user_language
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
        return []
