"""The safety layer: one risk detector, crisis resources per country, and the crisis replies.

    from bot.safety import detect
    result = detect("i want to die", lang="en", context=[])   # RiskResult(level, category, matched, lang)
    if result.is_risk: ...                                     # see bot.safety.replies

Map: engine.py (every lexicon + the trained model, context), detector.py + lexicon.py + patterns.py
+ normalize.py (the lexicon in data/safety/lexicon/<lang>.yml), classifier.py + training.py (the
model, trained into models/risk/ from data/safety/training/), result.py (levels, categories),
replies.py + resources.py (texts and numbers), evaluation.py + cli.py (`scrollcheck risk`).
"""

from bot.safety.engine import detect, preload
from bot.safety.result import CATEGORIES, LEVELS, RiskResult

__all__ = ["CATEGORIES", "LEVELS", "RiskResult", "detect", "preload"]
