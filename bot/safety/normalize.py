"""Turn a chat message into the plain lower-case text the risk patterns are written against.

Young people dodge filters and type fast: curly apostrophes, "diiie", "d i e", "k1ll", "s*icide",
"kms", "unalive", "im", "dont". Every pattern in the lexicon would need a dozen spellings
without this step, and one curly apostrophe would silently defeat all patterns containing "'".

Order matters and each step is cheap (a few regex passes, set look-ups):
  1. Unicode: NFKC (fancy/full-width letters -> plain), curly quotes and dashes -> ASCII,
     invisible characters and accents removed, emoji spaced out as their own tokens.
  2. lower case.
  3. spaced or dotted letters joined ("d i e", "k.i.l.l m.y.s.e.l.f") and split into words.
  4. per word: leetspeak ("k1ll", "d!e"), censoring ("s*icide"), repeated letters ("diiie") —
     a rewrite is only accepted when it yields a known word, so "2nd" or "10pm" stay intact.
     An unknown word one typo away from a risk word ("kil", "suicde", "mysefl") becomes that
     word (two typos for long words: "suicidle"); known words are never "corrected".
  5. punctuation spacing, stray quotes removed, hyphens inside words become spaces.
  6. lexicon rewrites: contractions and slang to plain words ("i'm" -> "i am", "gonna" ->
     "going to", "kms" -> "kill myself"), longest phrase first, in one pass.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Callable, Dict, List, Mapping, Optional, Sequence, Set, Tuple

_TRANSLATE = str.maketrans(
    {
        "\u2018": "'",
        "\u2019": "'",
        "\u201a": "'",
        "\u201b": "'",
        "\u2032": "'",
        "`": "'",
        "\u00b4": "'",
        "\u02bc": "'",
        "\uff07": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u201e": '"',
        "\u201f": '"',
        "\u2033": '"',
        "\u00ab": '"',
        "\u00bb": '"',
        "\u2010": "-",
        "\u2011": "-",
        "\u2012": "-",
        "\u2013": "-",
        "\u2014": "-",
        "\u2015": "-",
        "\u2212": "-",
    }
)
# Invisible format characters, bidirectional controls included: a right-to-left override before
# "kms" hid it from the lexicon (found by tests/fuzz).
_INVISIBLE_RE = re.compile(
    "[\u00ad\u034f\u061c\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff\ufe0e\ufe0f"
    "\U000e0000-\U000e007f]"
)
_SURROGATE_RE = re.compile("[\ud800-\udfff]")
_SPACED_RE = re.compile(r"(?<![\w'])(?:[a-z0-9][ .\-_*]{1,3}){2,}[a-z0-9](?![\w'])")
_CHUNK_RE = re.compile(r"[a-z0-9@$!|*]+")
_EDGE_SYMBOLS = "@$!|*"
_SENTENCE_GLUE_RE = re.compile(r"(?<=[a-z])([.,;:!?]+)(?=[a-z])")
_STRAY_QUOTE_RE = re.compile(r"(?<![a-z])'|'(?![a-z])|\"")
_INNER_HYPHEN_RE = re.compile(r"(?<=[a-z])[-_]+(?=[a-z])")
_RUN3_RE = re.compile(r"([a-z])\1{2,}")
_RUN2_RE = re.compile(r"([a-z])\1+")
_SPACE_RE = re.compile(r"\s+")


@dataclass(frozen=True)
class NormaliseConfig:
    """The language-specific part of normalisation, from the lexicon's `normalise:` section."""

    leet: Mapping[str, str]
    risk_words: Sequence[str]  # what a censor star or a typo may stand for
    rewrites: Mapping[str, str]
    single_letter_words: Sequence[str] = ("a", "i")


class Normaliser:
    """Callable: normaliser(text) -> normalised text. Build once per language."""

    def __init__(self, config: NormaliseConfig, is_word: Callable[[str], bool]) -> None:
        self.config = config
        self._rewrites = {
            _SPACE_RE.sub(" ", k.strip().lower()): v for k, v in config.rewrites.items()
        }
        self._is_known = lambda w: is_word(w) or w in self._rewrites
        self._leet_table = str.maketrans(dict(config.leet))
        self._leet_chars = frozenset(config.leet)
        self._risk_words = tuple(config.risk_words)
        self._typo_index = _typo_index(self._risk_words)
        self._single_letters = frozenset(config.single_letter_words)
        keys = sorted(self._rewrites, key=len, reverse=True)
        self._rewrite_re: Optional[re.Pattern] = (
            re.compile(
                r"(?<![a-z0-9'])(?:" + "|".join(re.escape(k) for k in keys) + r")(?![a-z0-9'])"
            )
            if keys
            else None
        )

    # -- public ------------------------------------------------------------------------------
    def __call__(self, text: str) -> str:
        text = self._unicode(text).lower()
        text = _SPACED_RE.sub(self._join_spaced, text)
        text = _CHUNK_RE.sub(lambda m: self._fix_word(m.group(0)), text)
        text = _SENTENCE_GLUE_RE.sub(r"\1 ", text)
        text = _STRAY_QUOTE_RE.sub(" ", text)
        text = _INNER_HYPHEN_RE.sub(" ", text)
        text = _SPACE_RE.sub(" ", text).strip()
        if self._rewrite_re is not None:
            text = self._rewrite_re.sub(lambda m: self._rewrites[m.group(0)], text)
        return text

    # -- steps ----------------------------------------------------------------------------------
    @staticmethod
    def _unicode(text: str) -> str:
        # JSON can smuggle in lone surrogates ("\ud800"); they are not text and break encoders.
        text = _SURROGATE_RE.sub("", text)
        text = unicodedata.normalize("NFKC", text).translate(_TRANSLATE)
        text = _INVISIBLE_RE.sub("", text)
        # Strip accents and "zalgo" marks, which people also use to get past filters.
        decomposed = unicodedata.normalize("NFD", text)
        text = unicodedata.normalize(
            "NFC", "".join(c for c in decomposed if unicodedata.category(c) != "Mn")
        )
        # Emoji and other symbols become separate tokens ("dead💀" -> "dead 💀").
        return "".join(f" {c} " if unicodedata.category(c) == "So" else c for c in text)

    def _join_spaced(self, match: "re.Match[str]") -> str:
        run = match.group(0)
        letters = re.sub(r"[ .\-_*]", "", run)
        if sum(c.isalpha() for c in letters) < 2:
            return run
        if self._is_known(letters):
            return f" {letters} "
        fixed = self._fix_word(letters)
        if fixed != letters and self._is_known(fixed):
            return f" {fixed} "
        words = self._segment(letters)
        return f" {' '.join(words)} " if words else f" {letters} "

    def _segment(self, letters: str) -> Optional[List[str]]:
        """Split run-together letters into the fewest known words ("killingmyself")."""
        n = len(letters)
        best: List[Optional[List[str]]] = [None] * (n + 1)
        best[0] = []
        for end in range(1, n + 1):
            for start in range(max(0, end - 20), end):
                prefix = best[start]
                if prefix is None:
                    continue
                piece = letters[start:end]
                if len(piece) == 1 and piece not in self._single_letters:
                    continue
                if not self._is_known(self._fix_word(piece)):
                    continue
                candidate = prefix + [self._fix_word(piece)]
                if best[end] is None or len(candidate) < len(best[end]):  # type: ignore[arg-type]
                    best[end] = candidate
        return best[n]

    def _fix_word(self, chunk: str) -> str:
        core = chunk.strip(_EDGE_SYMBOLS)
        if not core:
            return chunk
        start = chunk.index(core)
        lead, trail = chunk[:start], chunk[start + len(core) :]
        if not any(c.isalpha() for c in core) or self._is_known(core):
            return chunk
        if "*" in core:
            censored = self._uncensor(core)
            if censored:
                return lead + censored + trail
        candidates = [core]
        if self._leet_chars.intersection(core):
            candidates.insert(0, core.translate(self._leet_table))
        for candidate in candidates:
            for variant in (
                candidate,
                _RUN3_RE.sub(r"\1\1", candidate),
                _RUN2_RE.sub(r"\1", candidate),
            ):
                if self._is_known(variant):
                    return lead + variant + trail
        squeezed = _RUN3_RE.sub(r"\1", core)
        repaired = self._repair_typo(squeezed)
        if repaired:
            return lead + repaired + trail
        # Unknown word: still squeeze shouted letters ("lmaooo" -> "lmao").
        return lead + squeezed + trail

    def _uncensor(self, core: str) -> Optional[str]:
        pattern = re.compile(
            "^" + "".join("[a-z]" if c == "*" else re.escape(c) for c in core) + "$"
        )
        matches = [t for t in self._risk_words if pattern.match(t)]
        return matches[0] if len(matches) == 1 else None

    def _repair_typo(self, word: str) -> Optional[str]:
        if len(word) < 3 or not word.isalpha():
            return None
        candidates: Set[str] = set()
        for key in _deletions(word, 2 if len(word) >= 7 else 1):
            candidates.update(self._typo_index.get(key, ()))
        best = sorted(
            (distance, target)
            for target in candidates
            for distance in [_edit_distance(word, target)]
            if distance <= (2 if len(target) >= 8 and len(word) >= 7 else 1)
        )
        if not best or (len(best) > 1 and best[0][0] == best[1][0]):
            return None  # nothing close, or two risk words equally close: leave it alone
        return best[0][1]


def _deletions(word: str, depth: int) -> Set[str]:
    """The word and every string made by deleting up to `depth` letters (a SymSpell index key)."""
    result = {word}
    frontier = {word}
    for _ in range(depth):
        frontier = {w[:i] + w[i + 1 :] for w in frontier for i in range(len(w)) if len(w) > 1}
        result |= frontier
    return result


def _typo_index(words: Sequence[str]) -> Dict[str, Tuple[str, ...]]:
    """Deletion keys -> risk words, so typo look-up costs a few dict hits instead of a scan."""
    index: Dict[str, Set[str]] = {}
    for word in words:
        if len(word) < 4:  # "die" and "cut" are too short to guess at
            continue
        for key in _deletions(word, 2 if len(word) >= 8 else 1):
            index.setdefault(key, set()).add(word)
    return {key: tuple(sorted(value)) for key, value in index.items()}


def _edit_distance(a: str, b: str) -> int:
    """Optimal-string-alignment distance (insert, delete, substitute, swap neighbours)."""
    previous2: List[int] = []
    previous = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        current = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                current[j] = min(current[j], previous2[j - 2] + 1)
        previous2, previous = previous, current
    return previous[-1]
