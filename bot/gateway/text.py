"""Preparing a user's text before anyone reads it: whitespace, control characters, length."""

from __future__ import annotations

import re
import unicodedata
from typing import Optional, Tuple

MAX_INPUT_CHARS = 2000  # longer messages are cut (with a note) before Rasa sees them


def normalise_whitespace(text: str) -> str:
    """Drop control characters and collapse every run of (Unicode) whitespace to one space."""
    kept = "".join(ch for ch in text if ch.isspace() or unicodedata.category(ch) != "Cc")
    return " ".join(kept.split())


def bound_length(text: str, limit: int = MAX_INPUT_CHARS) -> Tuple[str, bool]:
    """Cut `text` to at most `limit` characters, at a word boundary when one is near the end."""
    if len(text) <= limit:
        return text, False
    cut = text[:limit]
    space = cut.rfind(" ")
    if space >= limit * 0.8:
        cut = cut[:space]
    return cut.rstrip(), True


def is_payload(text: str) -> bool:
    """A button's payload (an intent such as "/affirm"), not something the user wrote.

    The Telegram front end strips leading slashes from free text, so only our own buttons and
    commands reach the gateway starting with "/".
    """
    return text.startswith("/")


def user_language(language_code: Optional[str]) -> Optional[str]:
    """A language code as one of our languages: "nl", "nl-BE", "nl_NL" -> "nl"; else None."""
    try:
        from bot.languages import normalise

        return normalise(language_code)
    except Exception:  # data/languages.yml failed to load: the fail-safe still answers
        return None


_PAYLOAD_LANGUAGE = re.compile(
    r'^/change_language\s*\{\s*"language"\s*:\s*"([A-Za-z_-]+)"\s*\}\s*$'
)


def payload_language(payload: str) -> Optional[str]:
    """The language a button or command payload switches to ('/change_language{"language":"nl"}')."""
    match = _PAYLOAD_LANGUAGE.match(payload or "")
    return user_language(match.group(1)) if match else None
