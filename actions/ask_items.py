"""One `action_ask_<item>` per screening item, generated from data/screening/*.yml.

Rasa asks a form slot through an action named after it. The item, its topic's intro and the answer
buttons come from the screening YAML in the chat's language; the wording around them ("Question 2
of 5: ...") is a domain response with one variation per language.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.common import content, user_language
from bot.screening.content import CHOOSE_ALL_INTENT, SKIP_INTENT, choose_intent


def answer_buttons(lang: str) -> List[Dict[str, str]]:
    screening = content()
    buttons = [{"title": p.label[lang], "payload": f"/{p.intent}"} for p in screening.scale]
    buttons.append({"title": screening.skip.label[lang], "payload": f"/{SKIP_INTENT}"})
    return buttons


class AskScreeningItem(Action, ABC):
    """Base class; the generated subclasses below only fix which item they ask."""

    @property
    @abstractmethod
    def item_id(self) -> str: ...

    def name(self) -> Text:
        return f"action_ask_{self.item_id}"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[Dict[Text, Any]]:
        screening = content()
        topic = screening.topic_of_item(self.item_id)
        ids = [item.id for item in topic.items]
        number = ids.index(self.item_id) + 1
        lang = user_language(tracker)
        if number == 1 and not tracker.get_slot("reask_count"):  # not again on a re-ask
            dispatcher.utter_message(
                response="utter_topic_intro", title=topic.title[lang], intro=topic.intro[lang]
            )
        # The wording around the item is a domain response (one variation per language); the item
        # itself comes from the screening YAML in the same language.
        dispatcher.utter_message(
            response="utter_item_question",
            number=number,
            total=len(ids),
            question=topic.item(self.item_id).text[lang],
            buttons=answer_buttons(lang),
        )
        return []


def _make_ask_actions() -> Dict[str, type]:
    made = {}
    for item_id in content().item_slots:
        class_name = "AskItem_" + item_id
        made[class_name] = type(
            class_name, (AskScreeningItem,), {"item_id": item_id, "__module__": __name__}
        )
    return made


# rasa_sdk registers every Action subclass it can find, so creating the classes is enough.
globals().update(_make_ask_actions())


class AskTopics(Action):
    """The topic question: one button per topic of data/screening/topics.yml, then "all of them"."""

    def name(self) -> Text:
        return "action_ask_topics"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[Dict[Text, Any]]:
        screening, lang = content(), user_language(tracker)
        buttons = [
            {"title": t.button[lang], "payload": f"/{choose_intent(t.id)}"}
            for t in screening.topics.values()
        ]
        buttons.append(
            {"title": screening.all_topics.button[lang], "payload": f"/{CHOOSE_ALL_INTENT}"}
        )
        dispatcher.utter_message(response="utter_ask_topics", buttons=buttons)
        return []
