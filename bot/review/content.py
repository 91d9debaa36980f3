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

TOPIC_ORDER = ("comparison", "fomo", "cyberbullying")
BAND_ORDER = ("low", "some", "high")
LEVEL_LABELS = {"urgent": "Urgent", "concern": "Concern"}
CATEGORY_LABELS = {"self_harm": "Self-harm", "abuse": "Abuse", "friend_at_risk": "Friend at risk"}


@dataclass
class ReviewContent:
    """Display texts; every lookup falls back to the code it was given."""

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
        ordered = [t for t in TOPIC_ORDER]
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


def _read(path: Path) -> object:
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as error:
        log.warning("could not read %s for review labels: %s", path.name, type(error).__name__)
        return None


def load_review_content(directory: Optional[Path] = None) -> ReviewContent:
    directory = Path(directory) if directory else DATA_DIR / "screening"
    content = ReviewContent()
    if not directory.is_dir():
        return content
    scale = _read(directory / "scale.yml") if (directory / "scale.yml").exists() else None
    if isinstance(scale, dict) and isinstance(scale.get("scale"), list):
        for point in scale["scale"]:
            if isinstance(point, dict) and isinstance(point.get("value"), int) and isinstance(point.get("label"), str):
                content.scale_labels[point["value"]] = point["label"]
    for path in sorted(directory.glob("*.yml")):
        if path.name == "scale.yml":
            continue
        data = _read(path)
        if not isinstance(data, dict):
            continue
        meta = data.get("topic") if isinstance(data.get("topic"), dict) else {}
        topic_id = meta.get("id") if isinstance(meta.get("id"), str) else path.stem
        if isinstance(meta.get("title"), str):
            content.topic_titles[topic_id] = meta["title"]
        items = data.get("items") if isinstance(data.get("items"), list) else []
        content.topic_items[topic_id] = []
        for item in items:
            if isinstance(item, dict) and isinstance(item.get("id"), str):
                content.topic_items[topic_id].append(item["id"])
                if isinstance(item.get("text"), str):
                    content.item_texts[item["id"]] = item["text"]
        for band in data.get("bands") or []:
            if isinstance(band, dict) and isinstance(band.get("id"), str) and isinstance(band.get("label"), str):
                content.band_labels.setdefault(band["id"], band["label"])
    return content
