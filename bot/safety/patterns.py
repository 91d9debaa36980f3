"""A small pattern language for the risk lexicon, compiled to spaCy Matcher token patterns.

Maintainers write one line per pattern instead of spaCy's nested dicts. Patterns are matched
against the *normalised* text (lower case, contractions expanded, slang rewritten; see
normalize.py), token by token:

    die                 the word "die"
    die|dying|dead      any of these words
    <kill>              any word whose lemma is "kill" (kill, kills, killed, killing)
    <hit|beat>          lemma alternatives
    $self               any entry of the word set `self` (sets are defined in the lexicon file)
    @intent             the pattern text of the macro `intent` (macros are defined in the lexicon)
    #num                a number ("20", "twenty")
    #many               a number of five or more ("20", "twenty"), for "took 20 pills"
    *brug  zelfmoord*   a word ending or starting with these letters (Dutch compounds:
                        "erasmusbrug", "zelfmoordgedachten"); at least 4 letters; `*a|b|c*` mixes
    _                   exactly one word (not punctuation)
    ...                 up to 3 words (never punctuation, never a negation word)
    (going to|about to) a group of alternative word sequences
    x?                  the word (or group, set) is optional

A group or set that contains multi-word entries is expanded into several Matcher patterns; the
expansion is capped so a typo cannot explode the matcher.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field
from typing import Callable, Dict, Iterable, List, Mapping, Optional, Sequence, Tuple

TokenSpec = Dict[str, object]
# A compiled alternative: a list of spaCy token dicts.
TokenPattern = List[TokenSpec]

MAX_EXPANSIONS = 4096
GAP_WIDTH = 3

_MANY_REGEX = (
    r"^([5-9]|[1-9][0-9]+|five|six|seven|eight|nine|ten|eleven|twelve|fifteen|twenty|thirty|forty|"
    r"fifty|hundred|dozens?|loads|heaps)$"
)
_WORD_RE = re.compile(r"^[^\s()|<>$#?@]+$")
_NAME_RE = re.compile(r"^[a-z][a-z0-9_]*$")
_AFFIX_RE = re.compile(r"^[a-z][a-z']{3,}$")


class PatternError(ValueError):
    """A pattern line that cannot be compiled; the message is for maintainers."""


@dataclass(frozen=True)
class _Token:
    """One position: a single spaCy token spec, possibly optional."""

    spec: TokenSpec
    optional: bool = False


@dataclass(frozen=True)
class _Group:
    """Alternative sequences (from `( a b | c )` or a multi-word set); possibly optional."""

    alternatives: Tuple[Tuple["_Node", ...], ...]
    optional: bool = False


_Node = object  # _Token | _Group


@dataclass
class PatternContext:
    """What the compiler needs from the lexicon: sets, negation words, a word checker."""

    sets: Mapping[str, Sequence[str]]
    negation_words: Sequence[str]
    macros: Mapping[str, str] = field(default_factory=dict)
    # Returns an error message when `word` is not a valid literal (e.g. not normalised).
    check_word: Optional[Callable[[str], Optional[str]]] = None


def _split_top_level(text: str) -> List[str]:
    """Split `text` into items at spaces, keeping parenthesised groups together."""
    items: List[str] = []
    depth = 0
    current = ""
    for char in text:
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
            if depth < 0:
                raise PatternError("unbalanced `)`")
        if char.isspace() and depth == 0:
            if current:
                items.append(current)
            current = ""
        else:
            current += char
    if depth != 0:
        raise PatternError("unbalanced `(`")
    if current:
        items.append(current)
    return items


def _split_alternatives(inner: str) -> List[str]:
    """Split the inside of a group at top-level `|`."""
    parts: List[str] = []
    depth = 0
    current = ""
    for char in inner:
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        if char == "|" and depth == 0:
            parts.append(current)
            current = ""
        else:
            current += char
    parts.append(current)
    return parts


class _Compiler:
    def __init__(self, context: PatternContext) -> None:
        self.context = context
        self.gap_spec: TokenSpec = {
            "IS_PUNCT": False,
            "LOWER": {"NOT_IN": sorted(set(context.negation_words))},
            "OP": "?",
        }

    def _word(self, word: str) -> str:
        if not _WORD_RE.match(word):
            raise PatternError(f"`{word}` is not a word")
        if word != word.lower():
            raise PatternError(
                f"write `{word.lower()}` in lower case (text is lower-cased before matching)"
            )
        if self.context.check_word:
            problem = self.context.check_word(word)
            if problem:
                raise PatternError(problem)
        return word

    def parse_sequence(self, text: str) -> Tuple[_Node, ...]:
        text = text.strip()
        if not text:
            raise PatternError("empty pattern or empty alternative")
        return tuple(self.parse_item(item) for item in _split_top_level(text))

    def parse_item(self, item: str) -> _Node:
        optional = False
        if item.endswith("?") and len(item) > 1:
            optional, item = True, item[:-1]
        if item.startswith("("):
            if not item.endswith(")"):
                raise PatternError(f"`{item}`: a group must end with `)`")
            alternatives = tuple(
                self.parse_sequence(alt) for alt in _split_alternatives(item[1:-1])
            )
            return _Group(alternatives, optional)
        if item == "...":
            if optional:
                raise PatternError("`...` is already optional")
            return _Token({"__gap__": True})
        if item == "_":
            return _Token({"IS_PUNCT": False}, optional)
        if item == "#num":
            return _Token({"LIKE_NUM": True}, optional)
        if item == "#many":
            return _Token({"LOWER": {"REGEX": _MANY_REGEX}}, optional)
        if item.startswith("#"):
            raise PatternError(f"`{item}`: only #num and #many are known")
        if item.startswith("$"):
            return self._set(item[1:], optional)
        if item.startswith("<"):
            if not item.endswith(">"):
                raise PatternError(f"`{item}`: a lemma must be written as <word> or <word|word>")
            lemmas = [self._word(w) for w in item[1:-1].split("|")]
            if not all(lemmas):
                raise PatternError(f"`{item}`: empty lemma")
            spec: TokenSpec = (
                {"LEMMA": lemmas[0]} if len(lemmas) == 1 else {"LEMMA": {"IN": lemmas}}
            )
            return _Token(spec, optional)
        words = item.split("|")
        if not all(words):
            raise PatternError(f"`{item}`: empty alternative around `|`")
        if any(w.startswith("*") or w.endswith("*") for w in words):
            return _Token({"LOWER": {"REGEX": self._affix_regex(words)}}, optional)
        words = [self._word(w) for w in words]
        spec = {"LOWER": words[0]} if len(words) == 1 else {"LOWER": {"IN": words}}
        return _Token(spec, optional)

    def _affix_regex(self, words: Sequence[str]) -> str:
        """`*brug|zelfmoord*|dood` -> one regular expression over the whole (lower-case) word."""
        alternatives = []
        for word in words:
            core = word.strip("*")
            if not _AFFIX_RE.match(core) or "*" in core:
                raise PatternError(
                    f"`{word}`: a `*` word needs at least 4 letters and a `*` only at its start or end"
                )
            alternatives.append(
                ("[a-z]*" if word.startswith("*") else "")
                + re.escape(core)
                + ("[a-z]*" if word.endswith("*") else "")
            )
        return "^(?:" + "|".join(alternatives) + ")$"

    def _set(self, name: str, optional: bool) -> _Node:
        if not _NAME_RE.match(name):
            raise PatternError(f"`${name}` is not a valid set name")
        if name not in self.context.sets:
            raise PatternError(f"unknown word set `${name}` (define it under `sets:`)")
        entries = [str(e).strip() for e in self.context.sets[name]]
        if all(" " not in e for e in entries):
            return _Token({"LOWER": {"IN": sorted(set(entries))}}, optional)
        alternatives = tuple(
            tuple(_Token({"LOWER": w}) for w in entry.split()) for entry in entries
        )
        return _Group(alternatives, optional)

    def expand(self, nodes: Sequence[_Node]) -> List[TokenPattern]:
        """All alternative token sequences for a parsed sequence."""
        results: List[TokenPattern] = [[]]
        for node in nodes:
            options = self._options(node)
            results = [prefix + option for prefix, option in itertools.product(results, options)]
            if len(results) > MAX_EXPANSIONS:
                raise PatternError(
                    f"this pattern expands to more than {MAX_EXPANSIONS} variants; split it into smaller ones"
                )
        return results

    def _options(self, node: _Node) -> List[TokenPattern]:
        if isinstance(node, _Token):
            if node.spec.get("__gap__"):
                return [[dict(self.gap_spec) for _ in range(GAP_WIDTH)]]
            spec = dict(node.spec)
            if node.optional:
                spec["OP"] = "?"
            return [[spec]]
        assert isinstance(node, _Group)
        options: List[TokenPattern] = []
        # Single-word alternatives on the same attribute become one `IN` token: fewer Matcher
        # patterns keep matching fast however many words a maintainer lists.
        merged: Dict[str, List[str]] = {}
        for alternative in node.alternatives:
            single = alternative[0] if len(alternative) == 1 else None
            if (
                isinstance(single, _Token)
                and not single.optional
                and set(single.spec) <= {"LOWER", "LEMMA"}
                and len(single.spec) == 1
            ):
                attr, value = next(iter(single.spec.items()))
                if isinstance(value, str):
                    merged.setdefault(attr, []).append(value)
                    continue
                if isinstance(value, dict) and set(value) == {"IN"}:
                    merged.setdefault(attr, []).extend(value["IN"])
                    continue
            options.extend(self.expand(alternative))
        for attr, values in merged.items():
            unique = sorted(set(values))
            merged_spec: TokenSpec = {attr: unique[0] if len(unique) == 1 else {"IN": unique}}
            if node.optional and not options and len(merged) == 1:
                merged_spec["OP"] = "?"
                return [[merged_spec]]
            options.append([merged_spec])
        if node.optional:
            options.append([])
        return options


_MACRO_RE = re.compile(r"@([a-z][a-z0-9_]*)")


def expand_macros(pattern: str, macros: Mapping[str, str]) -> str:
    """Replace each `@name` by `(macro text)`; macros may not use other macros."""

    def replace(match: "re.Match[str]") -> str:
        name = match.group(1)
        if name not in macros:
            raise PatternError(f"unknown macro `@{name}` (define it under `macros:`)")
        return f"({macros[name]})"

    return _MACRO_RE.sub(replace, pattern)


def compile_pattern(pattern: str, context: PatternContext) -> List[TokenPattern]:
    """Compile one pattern line into spaCy Matcher patterns; raises PatternError."""
    if not isinstance(pattern, str) or not pattern.strip():
        raise PatternError("a pattern must be non-empty text")
    pattern = expand_macros(pattern, context.macros)
    if "@" in pattern:
        raise PatternError("a macro may not use another macro")
    compiler = _Compiler(context)
    variants = compiler.expand(compiler.parse_sequence(pattern))
    compiled = [v for v in variants if v]
    if not compiled:
        raise PatternError("the pattern can match nothing (everything in it is optional)")
    for variant in compiled:
        if all(spec.get("OP") == "?" for spec in variant):
            raise PatternError(
                "every word in this pattern is optional; make at least one word required"
            )
    return compiled


def literal_words(pattern: str) -> Iterable[str]:
    """The plain and lemma words a pattern mentions (for the normaliser's vocabulary)."""
    without_names = re.sub(r"[$#@][a-z0-9_]+", " ", pattern)
    yield from re.findall(r"[a-z][a-z']*", without_names)
