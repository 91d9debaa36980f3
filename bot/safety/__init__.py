"""The safety layer: one risk detector, crisis resources per country, and the crisis replies.

    from bot.safety import detect
    result = detect("i want to die", lang="en")   # RiskResult(level, category, matched)
    if result.is_risk: ...                         # see bot.safety.replies.crisis_reply

The detector is built once per process and language (one to two seconds); afterwards each
message takes well under 2 ms. Its lexicon lives in data/safety/lexicon/<lang>.yml.
"""
from bot.safety.detector import detect, preload
from bot.safety.result import CATEGORIES, LEVELS, RiskResult

__all__ = ["CATEGORIES", "LEVELS", "RiskResult", "detect", "preload"]
