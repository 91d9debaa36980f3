"""Rasa NLU component: the safety detector overrides whatever the intent classifier said.

It sits last in the pipeline (config.yml). On a risk signal the intent becomes `risk_disclosure`
with confidence 1.0, so a rule interrupts any active form and the crisis action answers in the
same turn. The detector (bot.safety) is the same one the gateway uses as its fail-safe.

The classifier also knows `risk_disclosure` (data/nlu/risk.yml) as a second net, but on its own it
flags figurative and negated messages ("i'm dead 💀", "i'm not suicidal") far more often than the
detector, which has guards for them. Measured on the labelled set (benchmarks/risk_through_rasa.py):
keeping the classifier's risk_disclosure at confidence >= 0.9 added no recall (0.998 either way)
and raised the false-positive rate from 0.000 to 0.077. So by default the detector decides alone
and a classifier-only risk_disclosure falls back to the next-ranked intent;
`classifier_min_confidence` re-enables the classifier at a chosen confidence.
(That is Rasa's intent classifier. The detector has its own second opinion, a classifier trained
on the labelled risk sets with guards' traps as negatives: bot/safety/classifier.py.)
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

from bot.nlp import rasa_speedups
from bot.safety import detect

rasa_speedups.install()  # two hot spots of `rasa run`, same results (see that module)

RISK_INTENT = "risk_disclosure"
RISK_KEY = "risk"  # extra parse-data key: {"level", "category", "matched"}


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=False)
class RiskDetector(GraphComponent):
    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {"lang": "en", "classifier_min_confidence": None}

    def __init__(self, config: Dict[Text, Any]) -> None:
        self.lang = config.get("lang", "en")
        threshold = config.get("classifier_min_confidence")
        self.classifier_min_confidence: Optional[float] = None if threshold is None else float(threshold)

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
            self._demote_weak_classifier_risk(message)
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

    def _demote_weak_classifier_risk(self, message: Message) -> None:
        intent = message.get(INTENT) or {}
        if intent.get("name") != RISK_INTENT:
            return
        if self.classifier_min_confidence is not None and intent.get("confidence", 0.0) >= self.classifier_min_confidence:
            return
        ranking = [r for r in message.get(INTENT_RANKING_KEY) or [] if r.get("name") != RISK_INTENT]
        fallback = ranking[0] if ranking else {"name": "nlu_fallback", "confidence": 1.0}
        message.set(INTENT, fallback, add_to_output=True)
        message.set(INTENT_RANKING_KEY, ranking, add_to_output=True)
