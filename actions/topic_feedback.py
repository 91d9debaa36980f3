"""Feedback for one finished topic: plain, non-diagnostic words and 2–3 tips from the YAML."""
from __future__ import annotations

from typing import Optional

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions import storage
from actions.common import content, language_code
from bot.screening.scoring import TopicResult, score_topic


def answers_for(tracker: Tracker, topic_id: str) -> dict:
    topic = content().topics[topic_id]
    return {item.id: _as_value(tracker.get_slot(item.id)) for item in topic.items}


def _as_value(slot_value: object) -> Optional[int]:
    return int(slot_value) if isinstance(slot_value, (int, float)) and not isinstance(slot_value, bool) else None


def give_topic_feedback(dispatcher: CollectingDispatcher, tracker: Tracker, topic_id: str) -> TopicResult:
    topic = content().topics[topic_id]
    result = score_topic(topic, answers_for(tracker, topic_id))
    if result.band is None:
        dispatcher.utter_message(
            text=f"{topic.title}: you skipped most of these, so I can't say much here — and that's completely fine."
        )
    else:
        tips = "\n".join(f"• {tip}" for tip in result.band.tips)
        dispatcher.utter_message(text=f"{topic.title}: {result.band.feedback}\n\nSome ideas:\n{tips}")
    if tracker.get_slot("consent") is True:
        # Written at the end of each topic, so a half-finished check-in keeps what was answered.
        storage.record_topic_summary(
            tracker.sender_id,
            checkin_id=tracker.get_slot("checkin_id") or "unknown",
            topic=topic_id,
            score=result.score,
            band=result.band.id if result.band else None,
            answers=dict(result.answers),
            elevated=list(result.elevated),
            skipped=list(result.skipped),
            age_band=tracker.get_slot("age_band"),
            country=tracker.get_slot("country"),
            language=language_code(tracker),
        )
    return result
