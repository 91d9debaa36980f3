"""Changing the chat's language: the /language command, the language button, "in het engels aub".

The `language` slot is filled by Rasa itself from the `language` entity (domain.yml mapping): a
button's payload carries it, and the NLU component bot.nlp.language_component reads it from the
message (a language named in a request to switch, or a message clearly in one language). So when
this action runs, a named language is already set and the reply comes out in it. Without one
("can we switch language?") it switches to the other language when there are two, else offers a
button per language (data/languages.yml). Inside a form the form then re-asks its open
question in the new language; no answer is lost.
"""

from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.common import control, user_language, utter_in_language
from bot.languages import languages

CHANGE_LANGUAGE_INTENT = "change_language"


def language_buttons() -> List[Dict[str, str]]:
    return [
        {
            "title": language.name,
            "payload": f'/{CHANGE_LANGUAGE_INTENT}{{"language":"{language.code}"}}',
        }
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

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[EventType]:
        lang = named_language(tracker)
        if lang:  # Rasa has set the slot from the entity already, so the reply comes out in it
            dispatcher.utter_message(response="utter_language_changed")
            dispatcher.utter_message(
                json_message=control(language=lang)
            )  # the gateway's own texts follow
            return []
        others = [code for code in languages().codes if code != user_language(tracker)]
        if len(others) == 1:
            # "can we switch language?" with two languages can only mean the other one. This
            # action sets the slot itself, so it picks the variation in the new language itself.
            utter_in_language(dispatcher, domain, "utter_language_changed", others[0])
            dispatcher.utter_message(json_message=control(language=others[0]))
            return [SlotSet("language", others[0])]
        # With more languages: ask. (Inside a form the form re-asks its question right after,
        # and Telegram keeps only the newest buttons; /language in Telegram asks on its own.)
        dispatcher.utter_message(response="utter_ask_language", buttons=language_buttons())
        return []
