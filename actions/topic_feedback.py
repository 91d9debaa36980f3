"""Feedback for one finished topic: plain, non-diagnostic words and 2–3 tips from the YAML."""

from __future__ import annotations

from typing import Optional

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions import storage
from actions.common import content, user_language
from bot.screening.scoring import TopicResult, score_topic


def answers_for(tracker: Tracker, topic_id: str) -> dict:
    topic = content().topics[topic_id]
    return {item.id: _as_value(tracker.get_slot(item.id)) for item in topic.items}


def _as_value(slot_value: object) -> Optional[int]:
    return (
        int(slot_value)
        if isinstance(slot_value, (int, float)) and not isinstance(slot_value, bool)
        else None
    )


def give_topic_feedback(
    dispatcher: CollectingDispatcher, tracker: Tracker, topic_id: str
) -> TopicResult:
    topic = content().topics[topic_id]
    result = score_topic(topic, answers_for(tracker, topic_id))
    lang = user_language(tracker)
    if result.band is None:
        dispatcher.utter_message(response="utter_topic_not_scored", title=topic.title[lang])
    else:
        tips = "\n".join(f"• {tip[lang]}" for tip in result.band.tips)
        dispatcher.utter_message(
            response="utter_topic_feedback",
            title=topic.title[lang],
            feedback=result.band.feedback[lang],
            tips=tips,
        )
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
            language=user_language(tracker),
        )
    return result
