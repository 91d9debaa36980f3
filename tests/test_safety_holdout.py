"""The detector on the BLIND held-out set (tests/safety/holdout_en.jsonl).

That set was written by someone who never saw the lexicon or the tuning set, and nobody tunes on
it: it is the honest estimate of recall on phrasing the detector has never seen (see
docs/safety.md). The issue's thresholds (0.98 / 0.95 / 0.03) are asserted on the tuning set in
test_safety_eval.py; here we assert a regression floor at the measured level, so a lexicon
change that loses real-world recall fails CI. Raise the floor when a change measures better;
never edit the held-out set to pass.
"""
from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from bot.safety import detect
from bot.safety.evaluation import Thresholds, evaluate, format_report, load_labelled

HOLDOUT = Path(__file__).parent / "safety" / "holdout_en.jsonl"
# Measured 2026-11-22 (see docs/safety.md): recall 0.886, urgent 0.790, FPR 0.017; floor a little below.
FLOOR = Thresholds(min_recall=0.86, min_urgent_recall=0.75, max_fpr=0.05)


@pytest.fixture(scope="module")
def items():
    return load_labelled(HOLDOUT)


def test_the_holdout_set_is_what_was_written(items):
    levels = Counter(item.level for item in items)
    assert len(items) == 260
    assert (levels["none"], levels["concern"], levels["urgent"]) == (120, 78, 62)


def test_holdout_recall_does_not_regress(items):
    report = evaluate(items, lambda text, lang: detect(text, lang=lang))
    failures = FLOOR.failures(report)
    assert not failures, "\n" + format_report(report, FLOOR, str(HOLDOUT)) + "\n\n" + "; ".join(failures)
