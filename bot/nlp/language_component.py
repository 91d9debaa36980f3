"""Rasa NLU component: which language the user is writing in, as a `language` entity.

domain.yml maps the `language` slot from this entity, so Rasa itself switches the chat's language
before anything answers, and every response's variation for that language is used in the same
turn (a form's next question included). It adds the entity when
- the message asks to switch (intent `change_language`) and names one language ("english pls",
  "kunnen we nederlands praten"): that language;
- otherwise the message is long and clear enough to tell (bot.langid: at least
  `identification.min_words` words and lingua's confidence above `min_confidence`, chosen by
  measurement in benchmarks/language_id.py), so a one-word "ok" or "ja" never switches.
Button payloads carry their own entity ("/change_language{"language":"nl"}") and skip this.
The gateway applies the same rule (bot.gateway) to pick the language of its own texts.
"""

from __future__ import annotations

import logging
from typing import Any, Dict, List, Optional, Text

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import ENTITIES, INTENT, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.langid import message_language

logger = logging.getLogger(__name__)

ENTITY = "language"


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR], is_trainable=False)
class LanguageReader(GraphComponent):
    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {}

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> "LanguageReader":
        return cls()

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        return training_data

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            self._add_language(message)
        return messages

    @staticmethod
    def _add_language(message: Message) -> None:
        text: Optional[str] = message.get(TEXT)
        if not text or text.startswith("/"):
            return
        intent = (message.get(INTENT) or {}).get("name")
        try:
            lang = message_language(text, asks_to_switch=intent == "change_language")
        except Exception as exc:  # noqa: BLE001 — the chat keeps its language; nothing else breaks
            logger.error("language identification failed: %s", type(exc).__name__, exc_info=True)
            return
        if lang is None:
            return
        entity = {
            "entity": ENTITY,
            "value": lang,
            "start": 0,
            "end": len(text),
            "extractor": "LanguageReader",
        }
        message.set(ENTITIES, [*(message.get(ENTITIES) or []), entity], add_to_output=True)
