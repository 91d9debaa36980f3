"""Labels for the review pages, read from the screening YAML when it is there.

The clinician pages must work with ids alone (the YAML may be missing or mid-edit), so this reads
leniently: anything it cannot understand falls back to the id. Validation of the YAML itself is
the screening loader's job (`scrollcheck validate`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional

import yaml

from bot import DATA_DIR

log = logging.getLogger(__name__)

BAND_ORDER = ("low", "some", "high")
LEVEL_LABELS = {"urgent": "Urgent", "concern": "Concern"}
CATEGORY_LABELS = {"self_harm": "Self-harm", "abuse": "Abuse", "friend_at_risk": "Friend at risk"}


@dataclass
class ReviewContent:
    """Display texts; every lookup falls back to the code it was given."""

    topic_order: List[str] = field(default_factory=list)  # data/screening/topics.yml
    topic_titles: Dict[str, str] = field(default_factory=dict)
    topic_items: Dict[str, List[str]] = field(default_factory=dict)
    item_texts: Dict[str, str] = field(default_factory=dict)
    band_labels: Dict[str, str] = field(default_factory=dict)
    scale_labels: Dict[int, str] = field(default_factory=dict)

    def topic_title(self, topic: str) -> str:
        return self.topic_titles.get(topic, topic.replace("_", " ").capitalize())

    def band_label(self, band: Optional[str]) -> str:
        if band is None:
            return "Not scored"
        return self.band_labels.get(band, band.replace("_", " ").capitalize())

    def item_text(self, item_id: str) -> Optional[str]:
        return self.item_texts.get(item_id)

    def answer_label(self, value: Optional[int]) -> str:
        if value is None:
            return "Skipped"
        label = self.scale_labels.get(value)
        return f"{value} – {label}" if label else str(value)

    def topics(self, present: Optional[List[str]] = None) -> List[str]:
        """Known topics in their usual order, then any others found in the data."""
        ordered = list(self.topic_order)
        ordered += [t for t in self.topic_titles if t not in ordered]
        ordered += sorted(t for t in (present or []) if t not in ordered)
        return ordered

    def bands(self) -> List[str]:
        ordered = list(BAND_ORDER)
        return ordered + [b for b in self.band_labels if b not in ordered]


def level_label(level: str) -> str:
    return LEVEL_LABELS.get(level, level.replace("_", " ").capitalize())


def category_label(category: str) -> str:
    return CATEGORY_LABELS.get(category, category.replace("_", " ").capitalize())


def _english(value: object) -> Optional[str]:
    """A screening text for the clinician pages: the default language's of a `{en: .., nl: ..}`
    mapping (or a plain string); None when there is none."""
    if isinstance(value, dict):
        texts = value
        try:
            from bot.languages import default_language

            value = texts.get(default_language())
        except Exception:  # data/languages.yml unreadable: the pages still work with ids
            value = texts.get("en")
    return value if isinstance(value, str) and value.strip() else None


def _read(path: Path) -> object:
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as error:
        log.warning(
            "could not read %s for review labels: %s",
            path.name,
            type(error).__name__,
            exc_info=True,
        )
        return None


def load_review_content(directory: Optional[Path] = None) -> ReviewContent:
    directory = Path(directory) if directory else DATA_DIR / "screening"
    content = ReviewContent()
    if not directory.is_dir():
        return content
    topics = _read(directory / "topics.yml") if (directory / "topics.yml").exists() else None
    if isinstance(topics, dict) and isinstance(topics.get("topics"), list):
        content.topic_order = [t for t in topics["topics"] if isinstance(t, str)]
    scale = _read(directory / "scale.yml") if (directory / "scale.yml").exists() else None
    if isinstance(scale, dict) and isinstance(scale.get("scale"), list):
        for point in scale["scale"]:
            label = _english(point.get("label")) if isinstance(point, dict) else None
            if label and isinstance(point.get("value"), int):
                content.scale_labels[point["value"]] = label
    for path in sorted(directory.glob("*.yml")):
        if path.name in ("scale.yml", "topics.yml"):
            continue
        data = _read(path)
        if not isinstance(data, dict):
            continue
        meta = data["topic"] if isinstance(data.get("topic"), dict) else {}
        topic_id = meta["id"] if isinstance(meta.get("id"), str) else path.stem
        title = _english(meta.get("title"))
        if title:
            content.topic_titles[topic_id] = title
        items = data["items"] if isinstance(data.get("items"), list) else []
        content.topic_items[topic_id] = []
        for item in items:
            if isinstance(item, dict) and isinstance(item.get("id"), str):
                content.topic_items[topic_id].append(item["id"])
                text = _english(item.get("text"))
                if text:
                    content.item_texts[item["id"]] = text
        for band in data.get("bands") or []:
            label = _english(band.get("label")) if isinstance(band, dict) else None
            if label and isinstance(band.get("id"), str):
                content.band_labels.setdefault(band["id"], label)
    return content
