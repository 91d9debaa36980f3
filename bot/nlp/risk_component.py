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

The gateway agreement: the gateway runs the same detector with the chat's context before it asks
Rasa, and posts its reading as metadata {"risk": RiskResult.as_dict(), "safety_replied": true}.
Rasa 3.6 hands the REST channel's metadata to NLU components as the Message's "metadata"
(rasa/graph_components/converters/nlu_message_converter.py), so this component takes the
strongest of the gateway's reading and its own; its own detection alone when there is none
(console, REST tests, stories). Button payloads ("/affirm") skip both here, because Rasa's
RegexMessageHandler runs after every component and replaces their parse data; the crisis actions
read the metadata from tracker.latest_message["metadata"] for those (actions/common.py).
"""

from __future__ import annotations

import logging
from typing import Any, Dict, List, Optional, Text

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot import gc_tuning
from bot.nlp import log_privacy, rasa_speedups
from bot.safety import RiskResult, detect
from bot.safety.result import NO_RISK, strongest

rasa_speedups.install()  # two hot spots of `rasa run`, same results (see that module)
log_privacy.install()  # Rasa's own log events never carry a user's text (see that module)
# Once the model has loaded, its objects live as long as `rasa run`: the collector stops walking them.
gc_tuning.freeze_when_started(delay=1.0)

logger = logging.getLogger(__name__)

RISK_INTENT = "risk_disclosure"
RISK_KEY = (
    "risk"  # extra parse-data key: RiskResult.as_dict() ({"level", "category", "matched", "lang"})
)
METADATA_KEY = "metadata"  # the channel's metadata on the NLU Message (set by NLUMessageConverter)


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=False)
class RiskDetector(GraphComponent):
    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {"lang": "en", "classifier_min_confidence": None}

    def __init__(self, config: Dict[Text, Any]) -> None:
        self.lang = config.get("lang", "en")
        threshold = config.get("classifier_min_confidence")
        self.classifier_min_confidence: Optional[float] = (
            None if threshold is None else float(threshold)
        )

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
        metadata = message.get(METADATA_KEY)
        metadata = metadata if isinstance(metadata, dict) else {}
        result = strongest([self._gateway_reading(metadata), self._own_reading(text, metadata)])
        if not result.is_risk:
            self._demote_weak_classifier_risk(message)
            return
        risk_intent = {"name": RISK_INTENT, "confidence": 1.0}
        ranking = [r for r in message.get(INTENT_RANKING_KEY) or [] if r.get("name") != RISK_INTENT]
        message.set(INTENT, risk_intent, add_to_output=True)
        message.set(INTENT_RANKING_KEY, [risk_intent, *ranking], add_to_output=True)
        message.set(RISK_KEY, result.as_dict(), add_to_output=True)

    @staticmethod
    def _gateway_reading(metadata: Dict[Text, Any]) -> RiskResult:
        """The gateway's reading of this message (with the chat's context), when it sent one."""
        return RiskResult.from_dict(metadata.get("risk")) or NO_RISK

    def _own_reading(self, text: str, metadata: Dict[Text, Any]) -> RiskResult:
        try:
            from bot.safety.replies import normalise_language

            lang = normalise_language(metadata.get("language_code")) or self.lang
        except Exception as exc:  # noqa: BLE001 — broken reply texts must not stop detection
            logger.error("reply languages failed: %s", type(exc).__name__, exc_info=True)
            lang = self.lang
        try:
            return detect(text, lang)
        except Exception as exc:  # noqa: BLE001 — the gateway's reading (and fail-safe) still stand
            logger.error("risk detector failed: %s", type(exc).__name__, exc_info=True)
            return NO_RISK

    def _demote_weak_classifier_risk(self, message: Message) -> None:
        intent = message.get(INTENT) or {}
        if intent.get("name") != RISK_INTENT:
            return
        if (
            self.classifier_min_confidence is not None
            and intent.get("confidence", 0.0) >= self.classifier_min_confidence
        ):
            return
        ranking = [r for r in message.get(INTENT_RANKING_KEY) or [] if r.get("name") != RISK_INTENT]
        fallback = ranking[0] if ranking else {"name": "nlu_fallback", "confidence": 1.0}
        message.set(INTENT, fallback, add_to_output=True)
        message.set(INTENT_RANKING_KEY, ranking, add_to_output=True)
