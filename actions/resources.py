"""request_resources and /resources: the help numbers for the user's country, right now."""

from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher

from actions.common import user_country, user_language
from bot.safety.replies import resources_text


class ActionShowResources(Action):
    def name(self) -> Text:
        return "action_show_resources"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[EventType]:
        dispatcher.utter_message(text=resources_text(user_country(tracker), user_language(tracker)))
        return []
