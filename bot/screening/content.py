"""Load and validate the screening YAML (data/screening/): the scale and one file per topic.

Every malformed entry raises ContentError naming the file and line, so a maintainer's typo fails
CI with a pointer instead of a confused conversation at run time.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

from bot import DATA_DIR
from bot.content.localized import Localized, read_localized, read_localized_node
from bot.content.yamlsource import ContentError, LineDict, LineList, load_yaml_with_lines

SCREENING_DIR = DATA_DIR / "screening"
ANSWER_INTENTS = (
    "answer_never",
    "answer_rarely",
    "answer_sometimes",
    "answer_often",
    "answer_very_often",
)
SKIP_INTENT = "skip_question"
CHOOSE_ALL_INTENT = "choose_all"
MIN_ITEMS, MAX_ITEMS = 4, 6


def choose_intent(topic_id: str) -> str:
    """The intent (and button payload) that picks one topic: data/nlu has examples for it."""
    return f"choose_{topic_id}"


@dataclass(frozen=True)
class ScalePoint:
    value: int
    id: str
    label: Localized
    intent: str
    words_by_language: Tuple[Tuple[str, Tuple[str, ...]], ...]

    @property
    def words(self) -> Tuple[str, ...]:
        """Typed answers in every language (people mix them)."""
        return tuple(w for _, words in self.words_by_language for w in words)


@dataclass(frozen=True)
class Skip:
    label: Localized
    words: Tuple[str, ...]  # every language's, lowercased


@dataclass(frozen=True)
class Item:
    id: str
    text: Localized
    source: Localized


@dataclass(frozen=True)
class Band:
    id: str
    label: Localized
    upto: float
    feedback: Localized
    tips: Tuple[Localized, ...]


@dataclass(frozen=True)
class Topic:
    id: str
    title: Localized
    button: Localized
    intro: Localized
    words: Tuple[str, ...]  # typed words (any language) that choose it, matched inside a message
    items: Tuple[Item, ...]
    min_answered: int
    elevated_at: int
    bands: Tuple[Band, ...]

    def item(self, item_id: str) -> Item:
        return next(i for i in self.items if i.id == item_id)


@dataclass(frozen=True)
class AllTopics:
    button: Localized
    words: Tuple[str, ...]  # whole words (any language) that choose every topic


@dataclass(frozen=True)
class Screening:
    scale: Tuple[ScalePoint, ...]
    skip: Skip
    topics: Dict[str, Topic]  # in the order data/screening/topics.yml gives
    all_topics: AllTopics

    @property
    def topic_order(self) -> Tuple[str, ...]:
        return tuple(self.topics)

    @property
    def item_slots(self) -> List[str]:
        return [item.id for topic in self.topics.values() for item in topic.items]

    def topic_of_item(self, item_id: str) -> Topic:
        return next(t for t in self.topics.values() if any(i.id == item_id for i in t.items))

    def point_for_intent(self, intent: str) -> Optional[ScalePoint]:
        return next((p for p in self.scale if p.intent == intent), None)

    def choose_intents(self) -> Dict[str, List[str]]:
        """Intent -> the topics it chooses: choose_<id> for each, choose_all for every one."""
        chosen = {choose_intent(t): [t] for t in self.topics}
        chosen[CHOOSE_ALL_INTENT] = list(self.topics)
        return chosen


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

    def field(
        self, node: LineDict, key: str, kind: type, *, required: bool = True, default: Any = None
    ) -> Any:
        if key not in node:
            if required:
                raise ContentError(self.path, node.line, f"missing required field `{key}`")
            return default
        value = node[key]
        if kind is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if not isinstance(value, kind) or isinstance(value, bool) and kind is not bool:
            raise self.fail(
                node, key, f"`{key}` must be {kind.__name__}, got {type(value).__name__}"
            )
        if isinstance(value, str) and not value.strip():
            raise self.fail(node, key, f"`{key}` must not be empty")
        return value

    def text(self, node: LineDict, key: str) -> Localized:
        """A user-visible text: one entry per language in data/languages.yml."""
        return Localized(read_localized(self.path, node, key))

    def words(self, node: LineDict, key: str) -> Tuple[Tuple[str, Tuple[str, ...]], ...]:
        """Typed words per language, lowercased."""
        return tuple(read_localized(self.path, node, key, kind=list).items())

    def str_list(self, node: LineDict, key: str, *, min_len: int = 1) -> Tuple[str, ...]:
        value = self.field(node, key, list)
        if len(value) < min_len:
            raise self.fail(node, key, f"`{key}` needs at least {min_len} entries")
        for index, entry in enumerate(value):
            if not isinstance(entry, (str, int)) or not str(entry).strip():
                raise ContentError(
                    self.path, value.line_of(index), f"`{key}` entries must be non-empty text"
                )
        return tuple(str(entry) for entry in value)


def _flat(words: Tuple[Tuple[str, Tuple[str, ...]], ...]) -> Tuple[str, ...]:
    return tuple(w for _, ws in words for w in ws)


def _load_scale(path: Path) -> Tuple[Tuple[ScalePoint, ...], Skip]:
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
            label=r.text(raw, "label"),
            intent=r.field(raw, "intent", str),
            words_by_language=r.words(raw, "words"),
        )
        if point.value != index + 1:
            raise r.fail(
                raw, "value", f"scale values must run 1, 2, 3 … in order; expected {index + 1}"
            )
        if point.intent not in ANSWER_INTENTS:
            raise r.fail(raw, "intent", f"intent must be one of {', '.join(ANSWER_INTENTS)}")
        scale.append(point)
    if len(scale) != len(ANSWER_INTENTS):
        raise r.fail(
            root,
            "scale",
            f"the scale needs exactly {len(ANSWER_INTENTS)} points (one per answer_* intent)",
        )
    if "skip" not in root:
        raise ContentError(path, root.line, "missing required field `skip`")
    skip = r.mapping(root.get("skip"), "skip", root)
    return tuple(scale), Skip(label=r.text(skip, "label"), words=_flat(r.words(skip, "words")))


def _load_topic(path: Path, expected_id: str) -> Topic:
    r = _Reader(path)
    root = load_yaml_with_lines(path)
    if not isinstance(root, LineDict):
        raise ContentError(
            path, 1, "a topic file must be a mapping with `topic`, `items`, `scoring`, `bands`"
        )
    meta = r.mapping(root.get("topic"), "topic", root)
    topic_id = r.field(meta, "id", str)
    if topic_id != expected_id:
        raise r.fail(
            meta, "id", f"topic id {topic_id!r} must match the file name ({expected_id!r})"
        )

    raw_items = r.field(root, "items", list)
    if not MIN_ITEMS <= len(raw_items) <= MAX_ITEMS:
        raise r.fail(
            root, "items", f"a topic needs {MIN_ITEMS}–{MAX_ITEMS} items, found {len(raw_items)}"
        )
    items: List[Item] = []
    for index, raw in enumerate(raw_items):
        if not isinstance(raw, LineDict):
            raise ContentError(
                path, raw_items.line_of(index), "each item must be a mapping with id, text, source"
            )
        item = Item(
            id=r.field(raw, "id", str), text=r.text(raw, "text"), source=r.text(raw, "source")
        )
        expected = f"{topic_id}_{index + 1}"
        if item.id != expected:
            # The ids are Rasa slot names in domain.yml, so they follow one fixed pattern.
            raise r.fail(
                raw,
                "id",
                f"item id {item.id!r} should be {expected!r} (items are numbered in order)",
            )
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
        raw_tips = r.field(raw, "tips", list)
        tips = []
        for tip_index, tip in enumerate(raw_tips):
            tips.append(
                Localized(read_localized_node(path, tip, raw_tips.line_of(tip_index), "tips"))
            )
        band = Band(
            id=r.field(raw, "id", str),
            label=r.text(raw, "label"),
            upto=r.field(raw, "upto", float),
            feedback=r.text(raw, "feedback"),
            tips=tuple(tips),
        )
        if band.upto <= previous:
            raise r.fail(raw, "upto", "bands must be in increasing order of `upto`")
        if not 2 <= len(band.tips) <= 3:
            raise r.fail(raw, "tips", "each band gives 2–3 practical tips")
        previous = band.upto
        bands.append(band)
    if not bands or bands[-1].upto < 5:
        raise r.fail(
            root, "bands", "the last band must reach 5 (`upto: 5`) so every score has a band"
        )
    return Topic(
        id=topic_id,
        title=r.text(meta, "title"),
        button=r.text(meta, "button"),
        intro=r.text(meta, "intro"),
        words=_flat(r.words(meta, "words")),
        items=tuple(items),
        min_answered=min_answered,
        elevated_at=elevated_at,
        bands=tuple(bands),
    )


def _load_topic_list(path: Path) -> Tuple[List[str], AllTopics]:
    """data/screening/topics.yml: the topics in the order offered, and the "all of them" choice."""
    r = _Reader(path)
    if not path.exists():
        raise ContentError(
            path, 1, "missing: topics.yml lists the screening topics in the order they are offered"
        )
    root = load_yaml_with_lines(path)
    if not isinstance(root, LineDict):
        raise ContentError(path, 1, "topics.yml must be a mapping with `topics` and `all`")
    ids = r.str_list(root, "topics")
    for index, topic_id in enumerate(ids):
        if not re.fullmatch(r"[a-z][a-z0-9]*", topic_id):
            raise ContentError(
                path,
                root["topics"].line_of(index),
                f"topic id {topic_id!r}: lowercase letters and digits only (it names slots and intents)",
            )
    if len(set(ids)) != len(ids):
        raise r.fail(root, "topics", "a topic is listed twice")
    every = r.mapping(root.get("all"), "all", root)
    return list(ids), AllTopics(
        button=r.text(every, "button"), words=_flat(r.words(every, "words"))
    )


def load_screening(directory: Optional[Path] = None) -> Screening:
    """Load and validate all screening content; raises ContentError (file:line) on any problem."""
    directory = Path(directory) if directory else SCREENING_DIR
    order, all_topics = _load_topic_list(directory / "topics.yml")
    scale, skip = _load_scale(directory / "scale.yml")
    topics = {}
    for topic_id in order:
        path = directory / f"{topic_id}.yml"
        if not path.exists():
            raise ContentError(
                directory / "topics.yml",
                1,
                f"topic {topic_id!r} is listed but {path.name} is missing",
            )
        topics[topic_id] = _load_topic(path, topic_id)
    return Screening(scale=scale, skip=skip, topics=topics, all_topics=all_topics)


@functools.lru_cache(maxsize=1)
def screening() -> Screening:
    """The project's screening content, loaded once per process."""
    return load_screening()
