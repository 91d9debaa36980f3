"""The detector on the first labelled set (data/safety/training/en/eval_en.jsonl), now training data:
in-sample figures, a regression check that the detector still does what it was taught (the honest
figures come from the blind sets, tests/test_safety_blind.py). See data/safety/training/README.md."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from bot.safety import detect
from bot.safety.evaluation import Thresholds, evaluate, load_labelled
from tests.safety_report import assert_meets

EVAL_PATH = Path(__file__).parent.parent / "data" / "safety" / "training" / "en" / "eval_en.jsonl"


@pytest.fixture(scope="module")
def items():
    return load_labelled(EVAL_PATH)


@pytest.fixture(scope="module")
def report(items):
    return evaluate(items, lambda text, lang, context: detect(text, lang, context))


def test_the_set_is_big_and_varied_enough(items):
    levels = Counter(item.level for item in items)
    categories = Counter(item.category for item in items if item.category)
    assert len(items) >= 300
    assert levels["none"] >= 120
    assert levels["urgent"] >= 60 and levels["concern"] >= 100
    assert min(categories.values()) >= 30 and set(categories) == {
        "self_harm",
        "abuse",
        "friend_at_risk",
    }
    texts = [item.text for item in items]
    assert len(set(texts)) == len(texts), "duplicate messages in the labelled set"
    assert sum("\u2019" in t for t in texts) >= 100, "curly apostrophes"
    assert sum(any(ord(c) > 0x2600 for c in t) for t in texts) >= 25, "emoji"
    tags = Counter(tag for item in items for tag in item.tags)
    # Guards against a slow erosion of hard cases (never delete them to make a change pass).
    for tag, minimum in {
        "figurative": 50,
        "school": 10,
        "negation": 10,
        "account": 12,
        "screening": 30,
        "slang": 20,
        "euphemism": 8,
        "leet": 2,
        "spaced": 2,
        "repeated": 4,
        "typo": 6,
        "flippant": 4,
        "sextortion": 6,
        "grooming": 4,
    }.items():
        assert tags[tag] >= minimum, f"only {tags[tag]} messages tagged {tag!r}"


def test_the_cases_the_issue_names_are_in_the_set(items):
    labels = {item.text: (item.level, item.category) for item in items}
    assert labels["I’m being forced to have sex and I’m only 12"] == ("urgent", "abuse")
    assert labels["he says he’ll send my pics to everyone"] == ("concern", "abuse")
    assert labels["I’m not okay, I want to die"] == ("concern", "self_harm")
    assert labels["we’re reading about suicide in history class"] == ("none", None)
    assert labels["i’m dead tired"] == ("none", None)
    assert labels["delete my account"] == ("none", None)


def test_recall_urgent_recall_and_false_positive_rate(report):
    thresholds = Thresholds(
        min_recall=0.98, min_urgent_recall=0.95, max_fpr=0.03, max_check_rate=0.08
    )
    assert_meets(report, thresholds, EVAL_PATH)


def test_every_message_the_detector_flags_gets_a_category(report):
    for outcome in report.outcomes:
        result = outcome.result
        assert (result.category is None) == (not result.is_risk), outcome
