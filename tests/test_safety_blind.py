"""The detector on the BLIND set (tests/safety/blind2_en.jsonl): the honest estimate.

That set was written on 2026-12-02 by someone who never saw the lexicon, the other labelled sets
or the detector, and nothing is tuned or trained on it (data/safety/classifier.yml may not list
it; `scrollcheck validate` refuses). Its figures say how the detector does on phrasing it has
never seen; docs/safety.md records them. Here we assert regression floors just below what was
measured, for the shipped detector (lexicon + second opinion) and for the lexicon alone, so a
change that loses real-world recall fails CI. Raise a floor when a change measures better;
never edit the blind set to pass. When it has been used to improve the detector, write a new one.
"""
from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from bot.safety import detect
from bot.safety.detector import build_detector
from bot.safety.evaluation import Thresholds, evaluate, load_labelled
from tests.safety_report import assert_meets

BLIND = Path(__file__).parent / "safety" / "blind2_en.jsonl"
# Measured 2026-12-02 (docs/safety.md): shipped 0.856 recall, 0.540 urgent, FPR 0.021 (urgent
# flagged at any level 0.805); lexicon alone 0.695 / 0.540 / 0.021. Floors a little below.
SHIPPED_FLOOR = Thresholds(min_recall=0.83, min_urgent_recall=0.50, max_fpr=0.03)
LEXICON_FLOOR = Thresholds(min_recall=0.66, min_urgent_recall=0.50, max_fpr=0.03)
MIN_URGENT_FLAGGED = 0.77  # urgent messages that get at least the helplines (and the ASQ question)


@pytest.fixture(scope="module")
def items():
    return load_labelled(BLIND)


def test_the_blind_set_is_what_was_written(items):
    levels = Counter(item.level for item in items)
    assert len(items) == 320
    assert (levels["none"], levels["concern"], levels["urgent"]) == (146, 87, 87)
    assert all("blind2" in item.tags for item in items)


def test_the_shipped_detector_does_not_regress(items):
    report = evaluate(items, lambda text, lang: detect(text, lang=lang))
    too_few_flagged = report.urgent_flagged < MIN_URGENT_FLAGGED
    assert_meets(report, SHIPPED_FLOOR, BLIND,
                 [f"urgent flagged at any level {report.urgent_flagged:.3f} < {MIN_URGENT_FLAGGED}"] if too_few_flagged else [])


def test_the_lexicon_alone_does_not_regress(items):
    lexicon = build_detector("en", second_opinion=False)
    report = evaluate(items, lambda text, lang: lexicon.detect(text))
    assert_meets(report, LEXICON_FLOOR, BLIND)
