"""The detector on the first held-out set (tests/safety/holdout_en.jsonl).

That set was written blind on 2026-11-22 and measured once (recall 0.714, then 0.886 after a
lexicon round; docs/safety.md). Since 2026-12-02 it is no longer blind: its misses were fixed in
the lexicon (round 7) and the second opinion (bot/safety/classifier.py) trains on it. So it is a
regression test now, held to the issue's thresholds like the tuning set; the honest estimate on
unseen phrasing comes from tests/safety/blind2_en.jsonl (test_safety_blind.py).
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from bot.safety import detect
from bot.safety.evaluation import Thresholds, evaluate, load_labelled
from tests.safety_report import assert_meets

HOLDOUT = Path(__file__).parent.parent / "data" / "safety" / "training" / "en" / "holdout_en.jsonl"
# Measured 2026-12-02 after round 7: recall 1.000, urgent 1.000, FPR 0.017.
FLOOR = Thresholds(min_recall=0.98, min_urgent_recall=0.95, max_fpr=0.03, max_check_rate=0.08)


@pytest.fixture(scope="module")
def items():
    return load_labelled(HOLDOUT)


def test_the_holdout_set_is_what_was_written(items):
    levels = Counter(item.level for item in items)
    assert len(items) == 260
    assert (levels["none"], levels["concern"], levels["urgent"]) == (120, 78, 62)


def test_holdout_recall_does_not_regress(items):
    report = evaluate(items, lambda text, lang, context: detect(text, lang, context))
    assert_meets(report, FLOOR, HOLDOUT)
