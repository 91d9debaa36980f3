"""Scoring of one screening topic: mean of the answered items, a plain-language band.

Non-diagnostic by design: a band only says how often the answers describe something, never what
the person "has". With fewer answers than `min_answered` there is no band at all.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping, Optional, Tuple

from bot.screening.content import Band, Topic


@dataclass(frozen=True)
class TopicResult:
    topic: str
    score: Optional[float]  # mean on the 1–5 scale, rounded to 2 decimals
    band: Optional[Band]
    answers: Mapping[str, Optional[int]]
    elevated: Tuple[str, ...]  # item ids answered at or above the topic's elevated_at
    skipped: Tuple[str, ...]  # item ids skipped or never answered clearly


def score_topic(topic: Topic, answers: Mapping[str, Optional[int]]) -> TopicResult:
    values = {item.id: answers.get(item.id) for item in topic.items}
    answered = {k: v for k, v in values.items() if isinstance(v, int) and 1 <= v <= 5}
    skipped = tuple(k for k in values if k not in answered)
    elevated = tuple(k for k, v in answered.items() if v >= topic.elevated_at)
    if len(answered) < topic.min_answered:
        return TopicResult(topic.id, None, None, values, elevated, skipped)
    score = round(sum(answered.values()) / len(answered), 2)
    band = next(b for b in topic.bands if score <= b.upto)
    return TopicResult(topic.id, score, band, values, elevated, skipped)
