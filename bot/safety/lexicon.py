"""Read and check the risk lexicon YAML (data/safety/lexicon/<language>.yml).

The file is edited by maintainers, so every structural problem is reported as a ContentError
naming the file and line. Pattern syntax is checked later, when the detector compiles the
patterns against spaCy (see detector.compile_lexicon), because that needs the tokenizer.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

from bot import DATA_DIR
from bot.content.yamlsource import ContentError, LineDict, LineList, load_yaml_with_lines
from bot.languages import default_language
from bot.safety.normalize import NormaliseConfig
from bot.safety.result import CATEGORIES, RISK_LEVELS

LEXICON_DIR = DATA_DIR / "safety" / "lexicon"
DEFAULT_LANGUAGE = default_language()  # data/languages.yml: the first language listed

MODIFIER_KINDS = ("time", "means", "plan", "acting", "goodbye", "possessions", "danger_nearby")
# What a rule's `requires:` may name: a modifier kind, or `concern` (another rule of the same
# category fired in the message).
REQUIREMENTS = MODIFIER_KINDS + ("concern",)

_ID_RE = re.compile(r"^[a-z][a-z0-9_]*$")
_LANG_RE = re.compile(r"^[a-z]{2,3}$")
_SET_NAME_RE = re.compile(r"^[a-z][a-z0-9_]*$")


@dataclass(frozen=True)
class Entry:
    """One rule, modifier or guard, with the lines of its patterns for error messages."""

    id: str  # full id as reported in RiskResult.matched, e.g. "self_harm.intent_kill_self"
    role: str  # "rule" | "modifier" | "guard" | "part"
    line: int
    patterns: Tuple[str, ...] = ()
    pattern_lines: Tuple[int, ...] = ()
    phrases: Tuple[str, ...] = ()
    phrase_lines: Tuple[int, ...] = ()
    category: Optional[str] = None  # rules
    level: Optional[str] = None  # rules
    negatable: bool = True
    softenable: bool = False  # urgent rules: a flippant marker ("lol") softens them to concern
    requires: Tuple[str, ...] = ()  # rules: only count when one of these is present
    kind: Optional[str] = None  # modifiers
    applies_to: Tuple[str, ...] = ()  # modifiers
    # Combination rules: a span of part `first`, then (at most `within` words later, same
    # clause, no negation in between) a span of part `then`.
    when_flippant: bool = False  # guards: only active in light-hearted messages ("lol")
    first: Optional[str] = None
    then: Optional[str] = None
    within: int = 0

    @property
    def is_combination(self) -> bool:
        return self.first is not None


@dataclass(frozen=True)
class NegationConfig:
    cues: Tuple[str, ...]
    neutral: Tuple[str, ...]  # phrases whose negation word negates nothing ("not gonna lie")
    window: int
    clause_breaks: Tuple[str, ...]
    subjects: Tuple[str, ...]  # a new subject ends the look-back ("i never thought i'd ...")
    denied_reports: Tuple[str, ...] = ()  # "never said i ...": the negation reaches the report


@dataclass(frozen=True)
class AttributionConfig:
    """Who a signal is about; see detector.Detector._attribute."""

    first_person: Tuple[str, ...] = ()
    third_person: Tuple[str, ...] = ()
    household: Tuple[
        str, ...
    ] = ()  # a hurt household member is violence at home (abuse), not "a friend"
    thing_pronouns: Tuple[str, ...] = ()  # ignored inside self_harm spans ("take them all")
    possessives: Tuple[str, ...] = ()  # ignored inside abuse spans ("his special girl")
    object_pronouns: Tuple[str, ...] = ()  # third-person victims inside abuse spans
    receivers: Tuple[str, ...] = ()  # "sent me", "told me"
    reporting_verbs: Tuple[str, ...] = ()
    window: int = 0


@dataclass(frozen=True)
class Lexicon:
    language: str
    path: Path
    sets: Dict[str, Tuple[str, ...]]
    macros: Dict[str, str]
    vocabulary: Tuple[str, ...]
    normalise: NormaliseConfig
    negation: NegationConfig
    attribution: AttributionConfig
    flippant: Tuple[str, ...]
    rules: Tuple[Entry, ...]
    modifiers: Tuple[Entry, ...]
    guards: Tuple[Entry, ...]
    parts: Tuple[Entry, ...] = ()
    combination_gap_words: Tuple[str, ...] = ()
    set_lines: Dict[str, int] = field(default_factory=dict)
    macro_lines: Dict[str, int] = field(default_factory=dict)

    @property
    def entries(self) -> Tuple[Entry, ...]:
        return self.rules + self.modifiers + self.guards + self.parts


class _Reader:
    """Field access that records problems (file and line) and carries on where it can."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.errors: List[ContentError] = []

    def error(self, line: int, message: str) -> None:
        self.errors.append(ContentError(self.path, line, message))

    def line(self, node: Any, key: Any = None) -> int:
        if isinstance(node, LineDict):
            return node.line_of(key) if key is not None else node.line
        if isinstance(node, LineList):
            return node.line_of(key) if key is not None else node.line
        return 1

    def mapping(self, parent: LineDict, key: str, *, required: bool = True) -> Optional[LineDict]:
        if key not in parent:
            if required:
                self.error(parent.line, f"missing required section `{key}`")
            return None
        value = parent[key]
        if not isinstance(value, LineDict):
            self.error(parent.line_of(key), f"`{key}` must be a mapping")
            return None
        return value

    def text_list(
        self, parent: LineDict, key: str, *, required: bool = True, min_len: int = 1
    ) -> Tuple[Tuple[str, ...], Tuple[int, ...]]:
        if key not in parent:
            if required:
                self.error(parent.line, f"missing required list `{key}`")
            return (), ()
        value = parent[key]
        if not isinstance(value, LineList):
            self.error(parent.line_of(key), f"`{key}` must be a list")
            return (), ()
        if len(value) < min_len:
            self.error(
                parent.line_of(key),
                f"`{key}` needs at least {min_len} entr{'y' if min_len == 1 else 'ies'}",
            )
        texts: List[str] = []
        lines: List[int] = []
        for index, item in enumerate(value):
            if isinstance(item, bool):
                self.error(
                    value.line_of(index),
                    f"`{key}`: an entry was read as {str(item).lower()} (YAML turns bare yes/no/on/off into "
                    "true/false); put the word in quotes",
                )
                continue
            if not isinstance(item, (str, int)) or not str(item).strip():
                self.error(value.line_of(index), f"`{key}` entries must be non-empty text")
                continue
            texts.append(str(item).strip())
            lines.append(value.line_of(index))
        return tuple(texts), tuple(lines)

    def lower_list(self, parent: LineDict, key: str, *, required: bool = True) -> Tuple[str, ...]:
        texts, lines = self.text_list(parent, key, required=required)
        for text, line in zip(texts, lines):
            if text != text.lower():
                self.error(
                    line, f"`{text}`: write it in lower case (text is lower-cased before matching)"
                )
        return tuple(t.lower() for t in texts)

    def boolean(self, parent: LineDict, key: str, default: bool) -> bool:
        if key not in parent:
            return default
        if not isinstance(parent[key], bool):
            self.error(parent.line_of(key), f"`{key}` must be true or false")
            return default
        return parent[key]

    def integer(self, parent: LineDict, key: str, low: int, high: int) -> int:
        value = parent.get(key)
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            self.error(parent.line_of(key), f"`{key}` must be a whole number from {low} to {high}")
            return low
        return value


_RULE_KEYS = {
    "id",
    "patterns",
    "phrases",
    "negatable",
    "softenable",
    "requires",
    "note",
    "first",
    "then",
    "within",
}
_PART_KEYS = {"id", "patterns", "phrases", "note"}
_MODIFIER_KEYS = {"id", "kind", "applies_to", "patterns", "phrases", "negatable", "note"}
_GUARD_KEYS = {"id", "patterns", "phrases", "note", "when_flippant"}


def _read_matchable(
    r: _Reader,
    raw: LineDict,
    allowed: set,
    seen: Dict[str, int],
    prefix: str,
    *,
    combination: bool = False,
) -> Optional[Dict[str, Any]]:
    unknown = [k for k in raw if k not in allowed]
    for key in unknown:
        r.error(
            raw.line_of(key),
            f"unknown field `{key}` (expected one of: {', '.join(sorted(allowed))})",
        )
    entry_id = raw.get("id")
    if not isinstance(entry_id, str) or not _ID_RE.match(entry_id):
        r.error(
            raw.line_of("id") if "id" in raw else raw.line,
            "each entry needs an `id` of lower-case letters, digits and _",
        )
        return None
    full_id = f"{prefix}.{entry_id}"
    if full_id in seen:
        r.error(raw.line_of("id"), f"duplicate id `{full_id}` (first used on line {seen[full_id]})")
        return None
    seen[full_id] = raw.line_of("id")
    patterns, pattern_lines = r.text_list(raw, "patterns", required=False, min_len=0)
    phrases, phrase_lines = r.text_list(raw, "phrases", required=False, min_len=0)
    if combination and (patterns or phrases):
        r.error(
            raw.line,
            f"`{full_id}` combines `first` and `then`; it cannot also have `patterns` or `phrases`",
        )
    elif not combination and not patterns and not phrases:
        r.error(
            raw.line,
            f"`{full_id}` needs at least one entry under `patterns` or `phrases` (or `first` and `then`)",
        )
    return {
        "id": full_id,
        "line": raw.line,
        "patterns": patterns,
        "pattern_lines": pattern_lines,
        "phrases": phrases,
        "phrase_lines": phrase_lines,
    }


def _read_combination(r: _Reader, raw: LineDict, parts: Dict[str, int]) -> Dict[str, Any]:
    if "first" not in raw and "then" not in raw:
        return {}
    result: Dict[str, Any] = {}
    for key in ("first", "then"):
        value = raw.get(key)
        if not isinstance(value, str) or f"part.{value}" not in parts:
            known = ", ".join(sorted(p.split(".", 1)[1] for p in parts)) or "none defined"
            r.error(
                raw.line_of(key) if key in raw else raw.line,
                f"`{key}` must name a part from `parts:` ({known})",
            )
            continue
        result[key] = f"part.{value}"
    if "within" in raw:
        result["within"] = r.integer(raw, "within", 0, 8)
    else:
        r.error(
            raw.line, "a combination needs `within:` (how many words may stand between the parts)"
        )
    return result


def _read_rules(r: _Reader, root: LineDict, seen: Dict[str, int]) -> List[Entry]:
    rules: List[Entry] = []
    categories = r.mapping(root, "categories")
    if categories is None:
        return rules
    for category in categories:
        if category not in CATEGORIES:
            r.error(
                categories.line_of(category),
                f"unknown category `{category}` (expected one of: {', '.join(CATEGORIES)})",
            )
            continue
        levels = categories[category]
        if not isinstance(levels, LineDict):
            r.error(
                categories.line_of(category),
                f"`{category}` must map levels (concern, urgent) to lists of rules",
            )
            continue
        for level in levels:
            if level not in RISK_LEVELS:
                r.error(
                    levels.line_of(level),
                    f"unknown level `{level}` (expected one of: {', '.join(RISK_LEVELS)})",
                )
                continue
            entries = levels[level]
            if not isinstance(entries, LineList):
                r.error(levels.line_of(level), f"`{category}.{level}` must be a list of rules")
                continue
            for index, raw in enumerate(entries):
                if not isinstance(raw, LineDict):
                    r.error(
                        entries.line_of(index),
                        "each rule must be a mapping with `id` and `patterns`/`phrases`",
                    )
                    continue
                combination = "first" in raw or "then" in raw
                base = _read_matchable(r, raw, _RULE_KEYS, seen, category, combination=combination)
                if base is None:
                    continue
                base.update(_read_combination(r, raw, seen))
                requires = r.lower_list(raw, "requires", required=False)
                for requirement in requires:
                    if requirement not in REQUIREMENTS:
                        r.error(
                            raw.line_of("requires"),
                            f"`requires` entries must be from: {', '.join(REQUIREMENTS)}",
                        )
                softenable = r.boolean(raw, "softenable", False)
                if softenable and level != "urgent":
                    r.error(
                        raw.line_of("softenable"), "`softenable` only makes sense for urgent rules"
                    )
                rules.append(
                    Entry(
                        role="rule",
                        category=category,
                        level=level,
                        negatable=r.boolean(raw, "negatable", True),
                        softenable=softenable,
                        requires=requires,
                        **base,
                    )
                )
    return rules


def _read_modifiers(r: _Reader, root: LineDict, seen: Dict[str, int]) -> List[Entry]:
    modifiers: List[Entry] = []
    raw_list = root.get("modifiers")
    if not isinstance(raw_list, LineList):
        r.error(
            root.line_of("modifiers") if "modifiers" in root else root.line,
            "`modifiers` must be a list",
        )
        return modifiers
    for index, raw in enumerate(raw_list):
        if not isinstance(raw, LineDict):
            r.error(raw_list.line_of(index), "each modifier must be a mapping")
            continue
        base = _read_matchable(r, raw, _MODIFIER_KEYS, seen, "modifier")
        if base is None:
            continue
        kind = raw.get("kind")
        if kind not in MODIFIER_KINDS:
            r.error(
                raw.line_of("kind") if "kind" in raw else raw.line,
                f"`kind` must be one of: {', '.join(MODIFIER_KINDS)}",
            )
            continue
        applies_to = r.lower_list(raw, "applies_to")
        for category in applies_to:
            if category not in CATEGORIES:
                r.error(
                    raw.line_of("applies_to"),
                    f"`applies_to` entries must be from: {', '.join(CATEGORIES)}",
                )
        modifiers.append(
            Entry(
                role="modifier",
                kind=kind,
                applies_to=applies_to,
                negatable=r.boolean(raw, "negatable", True),
                **base,
            )
        )
    return modifiers


def _read_guards(r: _Reader, root: LineDict, seen: Dict[str, int]) -> List[Entry]:
    guards: List[Entry] = []
    raw_list = root.get("guards")
    if not isinstance(raw_list, LineList):
        r.error(
            root.line_of("guards") if "guards" in root else root.line, "`guards` must be a list"
        )
        return guards
    for index, raw in enumerate(raw_list):
        if not isinstance(raw, LineDict):
            r.error(raw_list.line_of(index), "each guard must be a mapping")
            continue
        base = _read_matchable(r, raw, _GUARD_KEYS, seen, "guard")
        if base is not None:
            guards.append(
                Entry(
                    role="guard",
                    negatable=False,
                    when_flippant=r.boolean(raw, "when_flippant", False),
                    **base,
                )
            )
    return guards


def _read_parts(r: _Reader, root: LineDict, seen: Dict[str, int]) -> List[Entry]:
    parts: List[Entry] = []
    raw_list = root.get("parts")
    if raw_list is None:
        return parts
    if not isinstance(raw_list, LineList):
        r.error(root.line_of("parts"), "`parts` must be a list")
        return parts
    for index, raw in enumerate(raw_list):
        if not isinstance(raw, LineDict):
            r.error(raw_list.line_of(index), "each part must be a mapping")
            continue
        base = _read_matchable(r, raw, _PART_KEYS, seen, "part")
        if base is not None:
            parts.append(Entry(role="part", negatable=False, **base))
    return parts


def _read_sets(r: _Reader, root: LineDict) -> Tuple[Dict[str, Tuple[str, ...]], Dict[str, int]]:
    sets: Dict[str, Tuple[str, ...]] = {}
    lines: Dict[str, int] = {}
    node = r.mapping(root, "sets")
    if node is None:
        return sets, lines
    for name in node:
        if not isinstance(name, str) or not _SET_NAME_RE.match(name):
            r.error(
                node.line_of(name), f"set name `{name}` must be lower-case letters, digits and _"
            )
            continue
        sets[name] = r.lower_list(node, name)
        lines[name] = node.line_of(name)
    return sets, lines


def _read_macros(r: _Reader, root: LineDict) -> Tuple[Dict[str, str], Dict[str, int]]:
    macros: Dict[str, str] = {}
    lines: Dict[str, int] = {}
    node = r.mapping(root, "macros", required=False)
    if node is None:
        return macros, lines
    for name, text in node.items():
        if not isinstance(name, str) or not _SET_NAME_RE.match(name):
            r.error(
                node.line_of(name), f"macro name `{name}` must be lower-case letters, digits and _"
            )
            continue
        if not isinstance(text, str) or not text.strip():
            r.error(node.line_of(name), f"macro `{name}` must be pattern text")
            continue
        macros[name] = text.strip()
        lines[name] = node.line_of(name)
    return macros, lines


def _read_normalise(r: _Reader, root: LineDict) -> NormaliseConfig:
    node = r.mapping(root, "normalise")
    if node is None:
        return NormaliseConfig(leet={}, risk_words=(), rewrites={})
    leet: Dict[str, str] = {}
    leet_node = r.mapping(node, "leet")
    if leet_node is not None:
        for key, value in leet_node.items():
            key_text = str(key)
            if (
                len(key_text) != 1
                or key_text.isalpha()
                or not isinstance(value, str)
                or len(value) != 1
                or not value.isalpha()
            ):
                r.error(
                    leet_node.line_of(key),
                    "each `leet` entry maps one non-letter character to one letter",
                )
                continue
            leet[key_text] = value.lower()
    rewrites: Dict[str, str] = {}
    rewrites_node = r.mapping(node, "rewrites")
    if rewrites_node is not None:
        for key, value in rewrites_node.items():
            key_text = str(key)
            if not isinstance(value, str) or not key_text.strip():
                r.error(rewrites_node.line_of(key), f"rewrite `{key_text}` must map to text")
                continue
            if key_text != key_text.lower() or value != value.lower():
                r.error(
                    rewrites_node.line_of(key),
                    f"rewrite `{key_text}`: write both sides in lower case",
                )
                continue
            if any(c in key_text for c in "\u2018\u2019\u201c\u201d"):
                r.error(
                    rewrites_node.line_of(key),
                    f"rewrite `{key_text}`: use a straight apostrophe ' (curly ones are straightened first)",
                )
                continue
            rewrites[key_text] = value
    risk_words = r.lower_list(node, "risk_words")
    return NormaliseConfig(leet=leet, risk_words=risk_words, rewrites=rewrites)


def _read_negation(r: _Reader, root: LineDict) -> NegationConfig:
    node = r.mapping(root, "negation")
    if node is None:
        return NegationConfig((), (), 0, (), ())
    return NegationConfig(
        cues=r.lower_list(node, "cues"),
        neutral=r.lower_list(node, "neutral", required=False),
        window=r.integer(node, "window", 1, 8),
        clause_breaks=r.lower_list(node, "clause_breaks"),
        subjects=r.lower_list(node, "subjects"),
        denied_reports=r.lower_list(node, "denied_reports", required=False),
    )


def _read_attribution(r: _Reader, root: LineDict) -> AttributionConfig:
    node = r.mapping(root, "attribution")
    if node is None:
        return AttributionConfig()
    return AttributionConfig(
        first_person=r.lower_list(node, "first_person"),
        third_person=r.lower_list(node, "third_person"),
        household=r.lower_list(node, "household"),
        thing_pronouns=r.lower_list(node, "thing_pronouns", required=False),
        possessives=r.lower_list(node, "possessives", required=False),
        object_pronouns=r.lower_list(node, "object_pronouns", required=False),
        receivers=r.lower_list(node, "receivers", required=False),
        reporting_verbs=r.lower_list(node, "reporting_verbs"),
        window=r.integer(node, "window", 1, 12),
    )


_TOP_KEYS = {
    "language",
    "sets",
    "macros",
    "vocabulary",
    "normalise",
    "negation",
    "attribution",
    "flippant",
    "guards",
    "modifiers",
    "parts",
    "combination_gap_words",
    "categories",
}


def read_lexicon(path: Path) -> Tuple[Optional[Lexicon], List[ContentError]]:
    """Parse one lexicon file; returns (lexicon or None, every problem found)."""
    path = Path(path)
    r = _Reader(path)
    try:
        root = load_yaml_with_lines(path)
    except ContentError as exc:
        return None, [exc]
    if not isinstance(root, LineDict):
        return None, [
            ContentError(
                path, 1, "a lexicon file must be a mapping (language, sets, normalise, ...)"
            )
        ]
    for key in root:
        if key not in _TOP_KEYS:
            r.error(
                root.line_of(key),
                f"unknown section `{key}` (expected: {', '.join(sorted(_TOP_KEYS))})",
            )
    language = root.get("language")
    if not isinstance(language, str) or not _LANG_RE.match(language):
        r.error(
            root.line_of("language") if "language" in root else 1,
            "`language` must be a lower-case language code such as en or nl",
        )
        language = path.stem
    elif language != path.stem:
        r.error(
            root.line_of("language"),
            f"`language: {language}` must match the file name ({path.stem}.yml)",
        )
    sets, set_lines = _read_sets(r, root)
    macros, macro_lines = _read_macros(r, root)
    vocabulary = r.lower_list(root, "vocabulary", required=False)
    normalise = _read_normalise(r, root)
    negation = _read_negation(r, root)
    attribution = _read_attribution(r, root)
    flippant, _ = r.text_list(root, "flippant", required=False, min_len=0)
    seen: Dict[str, int] = {}
    guards = _read_guards(r, root, seen)
    modifiers = _read_modifiers(r, root, seen)
    parts = _read_parts(r, root, seen)
    rules = _read_rules(r, root, seen)
    if not rules and not r.errors:
        r.error(root.line, "the lexicon has no rules under `categories`")
    lexicon = Lexicon(
        language=language,
        path=path,
        sets=sets,
        macros=macros,
        vocabulary=vocabulary,
        normalise=normalise,
        negation=negation,
        attribution=attribution,
        flippant=tuple(f.lower() for f in flippant),
        rules=tuple(rules),
        modifiers=tuple(modifiers),
        guards=tuple(guards),
        parts=tuple(parts),
        combination_gap_words=r.lower_list(root, "combination_gap_words", required=False),
        set_lines=set_lines,
        macro_lines=macro_lines,
    )
    return lexicon, r.errors


def lexicon_path(language: str, directory: Optional[Path] = None) -> Path:
    return Path(directory or LEXICON_DIR) / f"{language}.yml"


def available_languages(directory: Optional[Path] = None) -> Tuple[str, ...]:
    directory = Path(directory or LEXICON_DIR)
    return tuple(sorted(p.stem for p in directory.glob("*.yml")))


def load_lexicon(language: str, directory: Optional[Path] = None) -> Lexicon:
    """Load a lexicon or raise the first ContentError found in it."""
    lexicon, errors = read_lexicon(lexicon_path(language, directory))
    if errors:
        raise errors[0]
    assert lexicon is not None
    return lexicon
