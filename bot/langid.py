"""Which of our languages a message is written in, when that is clear enough to act on.

lingua-language-detector, restricted to the languages in data/languages.yml, ships its models and
runs offline. Short messages defeat any identifier ("ok", "top", "sorry" are both English and
Dutch), so a message shorter than `identification.min_words` words, or read with less than
`identification.min_confidence`, gives None and the chat keeps its language. The thresholds were
chosen on short chat messages (benchmarks/language_id.py, docs/languages.md).
"""

from __future__ import annotations

import functools
import re
from typing import Dict, Optional

from bot.languages import languages

_WORD = re.compile(r"[^\W\d_]{2,}")
# lingua's name for each ISO 639-1 code we may list in data/languages.yml.
_LINGUA_NAMES = {"en": "ENGLISH", "nl": "DUTCH", "de": "GERMAN", "fr": "FRENCH", "es": "SPANISH"}


@functools.lru_cache(maxsize=1)
def _detector():
    from lingua import Language, LanguageDetectorBuilder

    wanted = [getattr(Language, _LINGUA_NAMES[code]) for code in languages().codes]
    return LanguageDetectorBuilder.from_languages(*wanted).with_preloaded_language_models().build()


def confidences(text: str) -> Dict[str, float]:
    """lingua's confidence per language code for a text ({} for a text without words)."""
    if not _WORD.search(text or ""):
        return {}
    by_name = {name: code for code, name in _LINGUA_NAMES.items()}
    values = _detector().compute_language_confidence_values(text)
    return {by_name[v.language.name]: float(v.value) for v in values if v.language.name in by_name}


def word_count(text: str) -> int:
    return len(_WORD.findall(text or ""))


def identify(
    text: str, *, min_words: Optional[int] = None, min_confidence: Optional[float] = None
) -> Optional[str]:
    """The language of a message when it is long and clear enough; else None (keep the chat's)."""
    if not text or text.lstrip().startswith("/"):
        return None  # a button payload or command, not prose
    settings = languages()
    min_words = settings.min_words if min_words is None else min_words
    min_confidence = settings.min_confidence if min_confidence is None else min_confidence
    if word_count(text) < min_words:
        return None
    scores = confidences(text)
    if not scores:
        return None
    code, value = max(scores.items(), key=lambda kv: kv[1])
    return code if value >= min_confidence else None


def warm_up() -> None:
    """Load the models now (a few hundred ms), not during someone's first message."""
    confidences("warm up the language models")


def message_language(text: str, *, asks_to_switch: bool = False) -> Optional[str]:
    """The language a user message moves the chat to, or None to keep the chat's language.

    A request to switch that names one language ("in het engels aub") gives that language;
    otherwise a message long and clear enough gives its own (identify). The Rasa NLU component
    and the gateway both decide with this, so they agree.
    """
    if not text or text.lstrip().startswith("/"):
        return None
    if asks_to_switch:
        named = languages().named_in(text)
        if named:
            return named
        return None  # "can we switch language?": the action offers the buttons
    return identify(text)
