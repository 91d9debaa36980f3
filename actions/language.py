"""Changing the chat's language: the /language command, the language button, "in het engels aub".

The `language` slot is filled by Rasa itself from the `language` entity (domain.yml mapping): a
button's payload carries it, and the NLU component bot.nlp.language_component reads it from the
message (a language named in a request to switch, or a message clearly in one language). So when
this action runs, a named language is already set and the reply comes out in it. Without one it
offers a button per language (data/languages.yml). Inside a form the form then re-asks its open
question in the new language; no answer is lost.
"""
from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher

from actions.common import control
from bot.languages import languages

CHANGE_LANGUAGE_INTENT = "change_language"


def language_buttons() -> List[Dict[str, str]]:
    return [
        {"title": language.name, "payload": f'/{CHANGE_LANGUAGE_INTENT}{{"language":"{language.code}"}}'}
        for language in languages().by_code.values()
    ]


def named_language(tracker: Tracker) -> str | None:
    for entity in tracker.latest_message.get("entities") or []:
        if entity.get("entity") == "language" and languages().normalise(entity.get("value")):
            return languages().normalise(entity.get("value"))
    return None


class ActionChangeLanguage(Action):
    def name(self) -> Text:
        return "action_change_language"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[EventType]:
        lang = named_language(tracker)
        if lang:
            dispatcher.utter_message(response="utter_language_changed")
            dispatcher.utter_message(json_message=control(language=lang))  # the gateway's own texts follow
        else:
            dispatcher.utter_message(response="utter_ask_language", buttons=language_buttons())
        return []
