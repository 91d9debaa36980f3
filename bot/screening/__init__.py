"""Screening content (items, scale, bands) read from data/screening/*.yml, and its scoring."""

from bot.screening.content import Band, Item, ScalePoint, Screening, Topic, load_screening
from bot.screening.scoring import TopicResult, score_topic

__all__ = [
    "Band",
    "Item",
    "ScalePoint",
    "Screening",
    "Topic",
    "TopicResult",
    "load_screening",
    "score_topic",
]
