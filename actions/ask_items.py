"""One `action_ask_<item>` per screening item, generated from data/screening/*.yml.

Rasa asks a form slot through an action named after it; the texts, progress ("Question 2 of 5")
and answer buttons all come from the screening YAML, so maintainers never touch Python to reword.
"""
from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.common import content


def answer_buttons() -> List[Dict[str, str]]:
    screening = content()
    buttons = [{"title": p.label, "payload": f"/{p.intent}"} for p in screening.scale]
    buttons.append({"title": screening.skip_label, "payload": "/skip_question"})
    return buttons


class AskScreeningItem(Action, ABC):
    """Base class; the generated subclasses below only fix which item they ask."""

    @property
    @abstractmethod
    def item_id(self) -> str:
        ...

    def name(self) -> Text:
        return f"action_ask_{self.item_id}"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[Dict[Text, Any]]:
        screening = content()
        topic = screening.topic_of_item(self.item_id)
        ids = [item.id for item in topic.items]
        number = ids.index(self.item_id) + 1
        if number == 1 and not tracker.get_slot("reask_count"):  # not again on a re-ask
            dispatcher.utter_message(text=f"{topic.title} — {topic.intro}")
        dispatcher.utter_message(
            text=f"Question {number} of {len(ids)}: {topic.item(self.item_id).text}",
            buttons=answer_buttons(),
        )
        return []


def _make_ask_actions() -> Dict[str, type]:
    made = {}
    for item_id in content().item_slots:
        class_name = "AskItem_" + item_id
        made[class_name] = type(class_name, (AskScreeningItem,), {"item_id": item_id, "__module__": __name__})
    return made


# rasa_sdk registers every Action subclass it can find, so creating the classes is enough.
globals().update(_make_ask_actions())
