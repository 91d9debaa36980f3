"""Load and validate the screening YAML (data/screening/): the scale and one file per topic.

Every malformed entry raises ContentError naming the file and line, so a maintainer's typo fails
CI with a pointer instead of a confused conversation at run time.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

from bot import DATA_DIR
from bot.content.yamlsource import ContentError, LineDict, LineList, load_yaml_with_lines

SCREENING_DIR = DATA_DIR / "screening"
# Topic order as offered to the user; each has data/screening/<id>.yml.
TOPIC_ORDER = ("comparison", "fomo", "cyberbullying")
ANSWER_INTENTS = ("answer_never", "answer_rarely", "answer_sometimes", "answer_often", "answer_very_often")
MIN_ITEMS, MAX_ITEMS = 4, 6


@dataclass(frozen=True)
class ScalePoint:
    value: int
    id: str
    label: str
    intent: str
    words: Tuple[str, ...]


@dataclass(frozen=True)
class Item:
    id: str
    text: str
    source: str


@dataclass(frozen=True)
class Band:
    id: str
    label: str
    upto: float
    feedback: str
    tips: Tuple[str, ...]


@dataclass(frozen=True)
class Topic:
    id: str
    title: str
    button: str
    intro: str
    items: Tuple[Item, ...]
    min_answered: int
    elevated_at: int
    bands: Tuple[Band, ...]

    def item(self, item_id: str) -> Item:
        return next(i for i in self.items if i.id == item_id)


@dataclass(frozen=True)
class Screening:
    scale: Tuple[ScalePoint, ...]
    skip_label: str
    topics: Dict[str, Topic]

    @property
    def item_slots(self) -> List[str]:
        return [item.id for topic_id in TOPIC_ORDER for item in self.topics[topic_id].items]

    def topic_of_item(self, item_id: str) -> Topic:
        return next(t for t in self.topics.values() if any(i.id == item_id for i in t.items))

    def point_for_intent(self, intent: str) -> Optional[ScalePoint]:
        return next((p for p in self.scale if p.intent == intent), None)


class _Reader:
    """Typed field access that reports problems at the right file and line."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def fail(self, node: Any, key: Any, message: str) -> ContentError:
        line = node.line_of(key) if isinstance(node, (LineDict, LineList)) else 1
        return ContentError(self.path, line, message)

    def mapping(self, node: Any, key: str, parent: Any) -> LineDict:
        if not isinstance(node, LineDict):
            raise self.fail(parent, key, f"`{key}` must be a mapping")
        return node

    def field(self, node: LineDict, key: str, kind: type, *, required: bool = True, default: Any = None) -> Any:
        if key not in node:
            if required:
                raise ContentError(self.path, node.line, f"missing required field `{key}`")
            return default
        value = node[key]
        if kind is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if not isinstance(value, kind) or isinstance(value, bool) and kind is not bool:
            raise self.fail(node, key, f"`{key}` must be {kind.__name__}, got {type(value).__name__}")
        if kind is str and not value.strip():
            raise self.fail(node, key, f"`{key}` must not be empty")
        return value

    def str_list(self, node: LineDict, key: str, *, min_len: int = 1) -> Tuple[str, ...]:
        value = self.field(node, key, list)
        if len(value) < min_len:
            raise self.fail(node, key, f"`{key}` needs at least {min_len} entries")
        for index, entry in enumerate(value):
            if not isinstance(entry, (str, int)) or not str(entry).strip():
                raise ContentError(self.path, value.line_of(index), f"`{key}` entries must be non-empty text")
        return tuple(str(entry) for entry in value)


def _load_scale(path: Path) -> Tuple[Tuple[ScalePoint, ...], str]:
    r = _Reader(path)
    root = load_yaml_with_lines(path)
    root = r.mapping(root, "scale", LineDict())
    points = r.field(root, "scale", list)
    scale: List[ScalePoint] = []
    for index, raw in enumerate(points):
        if not isinstance(raw, LineDict):
            raise ContentError(path, points.line_of(index), "each scale point must be a mapping")
        point = ScalePoint(
            value=r.field(raw, "value", int),
            id=r.field(raw, "id", str),
            label=r.field(raw, "label", str),
            intent=r.field(raw, "intent", str),
            words=tuple(w.lower() for w in r.str_list(raw, "words")),
        )
        if point.value != index + 1:
            raise r.fail(raw, "value", f"scale values must run 1, 2, 3 … in order; expected {index + 1}")
        if point.intent not in ANSWER_INTENTS:
            raise r.fail(raw, "intent", f"intent must be one of {', '.join(ANSWER_INTENTS)}")
        scale.append(point)
    if len(scale) != len(ANSWER_INTENTS):
        raise r.fail(root, "scale", f"the scale needs exactly {len(ANSWER_INTENTS)} points (one per answer_* intent)")
    skip = r.mapping(root.get("skip"), "skip", root) if "skip" in root else None
    if skip is None:
        raise ContentError(path, root.line, "missing required field `skip`")
    return tuple(scale), r.field(skip, "label", str)


def _load_topic(path: Path, expected_id: str) -> Topic:
    r = _Reader(path)
    root = load_yaml_with_lines(path)
    if not isinstance(root, LineDict):
        raise ContentError(path, 1, "a topic file must be a mapping with `topic`, `items`, `scoring`, `bands`")
    meta = r.mapping(root.get("topic"), "topic", root)
    topic_id = r.field(meta, "id", str)
    if topic_id != expected_id:
        raise r.fail(meta, "id", f"topic id {topic_id!r} must match the file name ({expected_id!r})")

    raw_items = r.field(root, "items", list)
    if not MIN_ITEMS <= len(raw_items) <= MAX_ITEMS:
        raise r.fail(root, "items", f"a topic needs {MIN_ITEMS}–{MAX_ITEMS} items, found {len(raw_items)}")
    items: List[Item] = []
    for index, raw in enumerate(raw_items):
        if not isinstance(raw, LineDict):
            raise ContentError(path, raw_items.line_of(index), "each item must be a mapping with id, text, source")
        item = Item(id=r.field(raw, "id", str), text=r.field(raw, "text", str), source=r.field(raw, "source", str))
        expected = f"{topic_id}_{index + 1}"
        if item.id != expected:
            # The ids are Rasa slot names in domain.yml, so they follow one fixed pattern.
            raise r.fail(raw, "id", f"item id {item.id!r} should be {expected!r} (items are numbered in order)")
        items.append(item)

    scoring = r.mapping(root.get("scoring"), "scoring", root)
    if r.field(scoring, "method", str) != "mean":
        raise r.fail(scoring, "method", "only `mean` scoring is supported")
    min_answered = r.field(scoring, "min_answered", int)
    if not 1 <= min_answered <= len(items):
        raise r.fail(scoring, "min_answered", f"min_answered must be between 1 and {len(items)}")
    elevated_at = r.field(scoring, "elevated_at", int)
    if not 1 <= elevated_at <= 5:
        raise r.fail(scoring, "elevated_at", "elevated_at must be a scale value 1–5")

    raw_bands = r.field(root, "bands", list)
    bands: List[Band] = []
    previous = 0.0
    for index, raw in enumerate(raw_bands):
        if not isinstance(raw, LineDict):
            raise ContentError(path, raw_bands.line_of(index), "each band must be a mapping")
        band = Band(
            id=r.field(raw, "id", str),
            label=r.field(raw, "label", str),
            upto=r.field(raw, "upto", float),
            feedback=r.field(raw, "feedback", str),
            tips=r.str_list(raw, "tips"),
        )
        if band.upto <= previous:
            raise r.fail(raw, "upto", "bands must be in increasing order of `upto`")
        if not 2 <= len(band.tips) <= 3:
            raise r.fail(raw, "tips", "each band gives 2–3 practical tips")
        previous = band.upto
        bands.append(band)
    if not bands or bands[-1].upto < 5:
        raise r.fail(root, "bands", "the last band must reach 5 (`upto: 5`) so every score has a band")
    return Topic(
        id=topic_id,
        title=r.field(meta, "title", str),
        button=r.field(meta, "button", str),
        intro=r.field(meta, "intro", str),
        items=tuple(items),
        min_answered=min_answered,
        elevated_at=elevated_at,
        bands=tuple(bands),
    )


def load_screening(directory: Optional[Path] = None) -> Screening:
    """Load and validate all screening content; raises ContentError (file:line) on any problem."""
    directory = Path(directory) if directory else SCREENING_DIR
    scale, skip_label = _load_scale(directory / "scale.yml")
    topics = {}
    for topic_id in TOPIC_ORDER:
        path = directory / f"{topic_id}.yml"
        if not path.exists():
            raise ContentError(path, 1, f"missing topic file for {topic_id!r}")
        topics[topic_id] = _load_topic(path, topic_id)
    return Screening(scale=scale, skip_label=skip_label, topics=topics)


@functools.lru_cache(maxsize=1)
def screening() -> Screening:
    """The project's screening content, loaded once per process."""
    return load_screening()
