"""Intent recognition in both languages, on sets written independently of the training data.

The floors are what the shipped model reached when these sets were first used (docs/languages.md
has the figures and `benchmarks/nlu_languages.py` the comparison of model designs); a change that
costs more than a point of macro-F1 in either language fails here.
"""

from __future__ import annotations

import pytest

from tests.nlu.evaluation import HERE, load_examples, macro_f1, per_intent_f1, rest_parser

pytestmark = pytest.mark.rasa

FLOORS = {
    "nl": 0.91,
    "en": 0.915,
}  # measured 0.922 and 0.926 (2026-12-03); the issue asks nl >= 0.90


@pytest.mark.parametrize("lang", sorted(FLOORS))
def test_macro_f1_on_the_independent_set(rasa_stack, lang):
    pairs = load_examples(HERE / f"{lang}_blind.yml")
    parse = rest_parser(rasa_stack.rasa_url)
    predicted = [parse(text) for text, _ in pairs]
    scores = per_intent_f1(pairs, predicted)
    report = ", ".join(
        f"{intent} {score:.2f}" for intent, score in sorted(scores.items(), key=lambda kv: kv[1])
    )
    print(
        f"\n{lang}: macro-F1 {macro_f1(scores):.3f} on {len(pairs)} messages; per intent: {report}"
    )
    assert macro_f1(scores) >= FLOORS[lang], report
