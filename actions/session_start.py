"""Session start: set the chat's language, and say what the bot is (not a human, not a therapist)
before anything else."""

from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActionExecuted, EventType, SessionStarted, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.common import utter_in_language
from bot.languages import languages


class ActionSessionStart(Action):
    def name(self) -> Text:
        return "action_session_start"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[EventType]:
        # Carry slots over (a paused check-in survives an idle hour), but not the form's
        # requested_slot: a stale one would make the resumed form misread the next message.
        carried = [
            SlotSet(name, value)
            for name, value in tracker.slots.items()
            if value is not None and name not in ("requested_slot", "session_started_metadata")
        ]
        events: List[EventType] = [SessionStarted(), *carried]
        lang = languages().normalise(tracker.get_slot("language"))
        if lang is None:
            # First contact: Telegram's language code ("nl-BE" -> nl), else the default.
            metadata = tracker.get_slot("session_started_metadata") or {}
            code = metadata.get("language_code") if isinstance(metadata, dict) else None
            lang = languages().normalise(code) or languages().default
            events.append(SlotSet("language", lang))
        utter_in_language(dispatcher, domain, "utter_disclosure", lang)
        return [*events, ActionExecuted("action_listen")]
