"""Rasa NLU component: the safety detector overrides whatever the intent classifier said.

It sits last in the pipeline (config.yml). On a risk signal the intent becomes `risk_disclosure`
with confidence 1.0, so a rule interrupts any active form and the crisis action answers in the
same turn. The detector (bot.safety) is the same one the gateway uses as its fail-safe.
"""
from __future__ import annotations

from typing import Any, Dict, List, Optional, Text

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.safety import detect

RISK_INTENT = "risk_disclosure"
RISK_KEY = "risk"  # extra parse-data key: {"level", "category", "matched"}


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=False)
class RiskDetector(GraphComponent):
    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {"lang": "en"}

    def __init__(self, config: Dict[Text, Any]) -> None:
        self.lang = config.get("lang", "en")

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> "RiskDetector":
        return cls(config)

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        return training_data

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            self._override_on_risk(message)
        return messages

    def _override_on_risk(self, message: Message) -> None:
        text: Optional[str] = message.get(TEXT)
        if not text or text.startswith("/"):
            return  # button payloads such as "/answer_often" are not user prose
        result = detect(text, self.lang)
        if not result.is_risk:
            return
        risk_intent = {"name": RISK_INTENT, "confidence": 1.0}
        ranking = [r for r in message.get(INTENT_RANKING_KEY) or [] if r.get("name") != RISK_INTENT]
        message.set(INTENT, risk_intent, add_to_output=True)
        message.set(INTENT_RANKING_KEY, [risk_intent, *ranking], add_to_output=True)
        message.set(
            RISK_KEY,
            {"level": result.level, "category": result.category, "matched": list(result.matched)},
            add_to_output=True,
        )
