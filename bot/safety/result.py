"""The detector's verdict and the rule that picks one level and category from many signals.

Levels, from least to most severe:
  none     nothing to act on
  check    an uncertain signal: ask directly (NIMH ASQ style) with buttons; yes or unclear goes
           to the crisis path, no resumes what the user was doing
  concern  helplines, then (self-harm) the ASQ acuity question
  urgent   the emergency number first
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Optional, Tuple

LEVELS = ("none", "check", "concern", "urgent")
RISK_LEVELS = ("check", "concern", "urgent")
CRISIS_LEVELS = ("concern", "urgent")
CATEGORIES = ("self_harm", "abuse", "friend_at_risk", "eating", "challenge")

# When several categories fire at the same level, the first one here wins. self_harm comes
# first because only its reply asks the ASQ acuity question, which decides whether the user
# needs the emergency path; the user's own safety (abuse, eating, challenge) outranks a third
# person's in the wording of the reply. (All fired ids stay in `matched`.)
CATEGORY_PRIORITY = ("self_harm", "abuse", "eating", "challenge", "friend_at_risk")

_SEVERITY = {level: rank for rank, level in enumerate(LEVELS)}


def severity(level: str) -> int:
    return _SEVERITY[level]


@dataclass(frozen=True)
class RiskResult:
    """What the detector found in one message (read with its context).

    `matched` holds the ids of the lexicon entries and model signals that fired (never the
    user's text), so it is safe to log and to store. `lang` is the language the signal was read
    in ("en", "nl"), or None when nothing tells; replies use it, else the user's language.
    """

    level: str  # "none" | "check" | "concern" | "urgent"
    category: Optional[str]  # one of CATEGORIES, None when level == "none"
    matched: Tuple[str, ...] = ()
    lang: Optional[str] = None

    def __post_init__(self) -> None:
        if self.level not in LEVELS:
            raise ValueError(f"unknown risk level {self.level!r}")
        if self.level == "none" and self.category is not None:
            raise ValueError("a result without risk has no category")
        if self.level != "none" and self.category not in CATEGORIES:
            raise ValueError(f"a risk result needs a category from {CATEGORIES}")

    @property
    def is_risk(self) -> bool:
        """Anything that needs a safety reply (a direct check or a crisis reply)."""
        return self.level != "none"

    @property
    def is_crisis(self) -> bool:
        """Crisis resources now (concern or urgent), not only a direct question."""
        return self.level in CRISIS_LEVELS

    def as_dict(self) -> dict:
        return {
            "level": self.level,
            "category": self.category,
            "matched": list(self.matched),
            "lang": self.lang,
        }

    @classmethod
    def from_dict(cls, data: object) -> Optional["RiskResult"]:
        """The inverse of as_dict, or None for anything malformed (e.g. forged metadata)."""
        if not isinstance(data, dict):
            return None
        try:
            matched = data.get("matched") or ()
            lang = data.get("lang")
            return cls(
                str(data.get("level")),
                data.get("category"),
                tuple(str(m) for m in matched) if isinstance(matched, (list, tuple)) else (),
                lang if isinstance(lang, str) else None,
            )
        except (ValueError, TypeError):
            return None


NO_RISK = RiskResult("none", None, ())


def pick(levels_by_category: Iterable[Tuple[str, str]]) -> Tuple[str, Optional[str]]:
    """Most severe level wins; ties go to the category earliest in CATEGORY_PRIORITY."""
    best_level, best_category = "none", None
    for category, level in levels_by_category:
        if level == "none":
            continue
        better_level = severity(level) > severity(best_level)
        same_level_better_category = severity(level) == severity(best_level) and (
            best_category is None
            or CATEGORY_PRIORITY.index(category) < CATEGORY_PRIORITY.index(best_category)
        )
        if better_level or same_level_better_category:
            best_level, best_category = level, category
    return best_level, best_category


def strongest(results: Iterable[RiskResult]) -> RiskResult:
    """The most severe of several results (ties: CATEGORY_PRIORITY, then the first given)."""
    best = NO_RISK
    for result in results:
        if severity(result.level) > severity(best.level) or (
            result.level == best.level
            and result.is_risk
            and CATEGORY_PRIORITY.index(result.category) < CATEGORY_PRIORITY.index(best.category)
        ):
            best = result
    return best
