"""The one reader of yes/no answers on the crisis path (the direct check and the acuity question).

    parse_yes_no("yeah")           -> True
    parse_yes_no("im not")         -> False
    parse_yes_no("idk 🤷")         -> True    # unsure counts as yes: the safe side
    parse_yes_no("nee hoor", "nl") -> False
    parse_yes_no("what?")          -> None    # not an answer: ask once more, then treat as yes

The words live in data/safety/replies.yml (`answers:` per language). Every language's words are
read on every answer, because young people switch languages and Telegram's language setting
often does not match the one they write in. A message counts when it STARTS with a listed word
or phrase; the longest match wins ("i'm not sure" is unsure, "i'm not" is no, "i am" is yes). A
no followed by a hedge ("no but sometimes", "nee maar soms wel") counts as unsure. The payloads
of the Yes/No buttons (/affirm, /deny) are answers too.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from typing import Dict, List, Optional, Tuple

from bot.safety.replies import (
    AFFIRM_PAYLOAD,
    DEFAULT_LANGUAGE,
    DENY_PAYLOAD,
    _all_texts,
    normalise_language,
)

AFFIRM, DENY, UNSURE = "affirm", "deny", "unsure"
# When two lists match equally long, the safe reading wins.
_SAFETY_ORDER = (UNSURE, AFFIRM, DENY)

# Emoji modifiers that change how an emoji looks, not what it says: skin tones, the variation
# selector, the zero-width joiner and the gender signs of composed emoji (🤷‍♀️ -> 🤷).
_EMOJI_NOISE = re.compile("[\U0001f3fb-\U0001f3ff\ufe0e\ufe0f\u200d\u2640\u2642]")
_TOKEN = re.compile(r"[^\W_]+(?:'[^\W_]+)*|\S", re.UNICODE)


def _tokens(text: str) -> List[str]:
    text = unicodedata.normalize("NFKC", text).lower()
    text = (
        text.replace("\u2019", "'").replace("\u2018", "'").replace("`", "'").replace("\u00b4", "'")
    )
    text = _EMOJI_NOISE.sub(" ", text)
    tokens = []
    for token in _TOKEN.findall(text):
        if len(token) == 1 and unicodedata.category(token).startswith("P"):
            continue  # punctuation ("no.", "yes!!", "nee,") says nothing about the answer
        tokens.append(token)
    return tokens


def _squeeze(token: str, keep: int) -> str:
    """Letters repeated more than `keep` times cut to `keep` ("yesss" -> "yes", "neeee" -> "nee")."""
    return re.sub(r"(\w)\1{%d,}" % keep, lambda m: m.group(1) * keep, token)


def _same(token: str, word: str) -> bool:
    return token == word or _squeeze(token, 2) == word or _squeeze(token, 1) == word


@functools.lru_cache(maxsize=1)
def _phrases() -> Dict[str, Tuple[Tuple[Tuple[str, ...], str, str], ...]]:
    """language -> ((phrase tokens, kind, language), ...), plus the hedges of every language."""
    table: Dict[str, Tuple[Tuple[Tuple[str, ...], str, str], ...]] = {}
    for language, texts in _all_texts().items():
        entries = []
        for kind in (AFFIRM, DENY, UNSURE):
            for phrase in getattr(texts.answers, kind):
                entries.append((tuple(_tokens(phrase)), kind, language))
        table[language] = tuple(entries)
    return table


@functools.lru_cache(maxsize=1)
def _hedges() -> frozenset:
    return frozenset(word for texts in _all_texts().values() for word in texts.answers.hedges)


def classify_answer(text: Optional[str], lang: Optional[str] = None) -> Optional[str]:
    """ "affirm", "deny", "unsure", or None when the message does not answer a yes/no question.

    `lang` (the user's language) only breaks ties between languages; every language is read.
    """
    if not text or not isinstance(text, str):
        return None
    stripped = text.strip()
    if stripped.startswith(AFFIRM_PAYLOAD):
        return AFFIRM
    if stripped.startswith(DENY_PAYLOAD):
        return DENY
    tokens = _tokens(stripped)
    if not tokens:
        return None
    preferred = normalise_language(lang) or DEFAULT_LANGUAGE
    best: Optional[Tuple[int, int, int]] = None  # (length, safety rank, language rank)
    best_kind: Optional[str] = None
    for language, entries in _phrases().items():
        for phrase, kind, _ in entries:
            if len(phrase) > len(tokens) or not all(_same(t, w) for t, w in zip(tokens, phrase)):
                continue
            score = (len(phrase), -_SAFETY_ORDER.index(kind), int(language == preferred))
            if best is None or score > best:
                best, best_kind = score, kind
    if best_kind == DENY and best is not None and any(t in _hedges() for t in tokens[best[0] :]):
        return UNSURE  # "no but sometimes i think about it"
    return best_kind


def parse_yes_no(text: Optional[str], lang: Optional[str] = None) -> Optional[bool]:
    """True (yes, or unsure: the safe side), False (no), or None (not an answer)."""
    kind = classify_answer(text, lang)
    if kind is None:
        return None
    return kind != DENY
