"""The detector's verdict and the rule that picks one level and category from many signals."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Optional, Tuple

LEVELS = ("none", "concern", "urgent")
RISK_LEVELS = ("concern", "urgent")
CATEGORIES = ("self_harm", "abuse", "friend_at_risk")

# When several categories fire at the same level, the first one here wins. self_harm comes
# first because only its reply asks the ASQ acuity question, which decides whether the user
# needs the emergency path; abuse comes before friend_at_risk because the user's own safety
# outranks a third person's in the wording of the reply. (All fired ids stay in `matched`.)
CATEGORY_PRIORITY = ("self_harm", "abuse", "friend_at_risk")

_SEVERITY = {level: rank for rank, level in enumerate(LEVELS)}


def severity(level: str) -> int:
    return _SEVERITY[level]


@dataclass(frozen=True)
class RiskResult:
    """What the detector found in one message.

    `matched` holds the ids of the lexicon entries that fired (never the user's text), so it is
    safe to log and to store.
    """

    level: str  # "none" | "concern" | "urgent"
    category: Optional[str]  # "self_harm" | "abuse" | "friend_at_risk" | None when level == "none"
    matched: Tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.level not in LEVELS:
            raise ValueError(f"unknown risk level {self.level!r}")
        if self.level == "none" and self.category is not None:
            raise ValueError("a result without risk has no category")
        if self.level != "none" and self.category not in CATEGORIES:
            raise ValueError(f"a risk result needs a category from {CATEGORIES}")

    @property
    def is_risk(self) -> bool:
        return self.level != "none"


NO_RISK = RiskResult("none", None, ())


def pick(levels_by_category: Iterable[Tuple[str, str]]) -> Tuple[str, Optional[str]]:
    """Most severe level wins; ties go to the category earliest in CATEGORY_PRIORITY."""
    best_level, best_category = "none", None
    for category, level in levels_by_category:
        if level == "none":
            continue
        better_level = severity(level) > severity(best_level)
        same_level_better_category = severity(level) == severity(best_level) and (
            best_category is None or CATEGORY_PRIORITY.index(category) < CATEGORY_PRIORITY.index(best_category)
        )
        if better_level or same_level_better_category:
            best_level, best_category = level, category
    return best_level, best_category
