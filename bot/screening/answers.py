"""Turn typed free-text answers into scale values when the NLU intent was not an answer_* one.

Buttons and the answer_* intents cover almost everything; this catches "3", "sometimes i guess",
"Very often!!" so a clear answer is never re-asked.
"""

from __future__ import annotations

import re
from typing import Optional

from bot.screening.content import Screening

_NON_WORD = re.compile(r"[^\w/ ]+")


def parse_answer(text: Optional[str], screening: Screening) -> Optional[int]:
    if not text:
        return None
    cleaned = " ".join(_NON_WORD.sub(" ", text.lower().replace("’", "'")).split())
    if not cleaned:
        return None
    if cleaned.isdigit():
        value = int(cleaned)
        return value if 1 <= value <= len(screening.scale) else None
    # Longest phrase wins, so "very often" beats "often" and "not at all" beats "all".
    best: Optional[int] = None
    best_len = 0
    padded = f" {cleaned} "
    for point in screening.scale:
        for word in point.words:
            if not word.isdigit() and f" {word} " in padded and len(word) > best_len:
                best, best_len = point.value, len(word)
    return best
