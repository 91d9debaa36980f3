"""The detector's second opinion (bot/safety/classifier.py) and how the detector uses it."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from bot import PROJECT_ROOT
from bot.safety.classifier import (
    fit,
    make_pipeline,
    prepare,
    read_config,
    training_examples,
    validate_config,
)
from bot.safety.detector import build_detector, get_detector

BLIND = PROJECT_ROOT / "tests" / "safety" / "blind2_en.jsonl"


@pytest.fixture(scope="module")
def config():
    return read_config("en")


@pytest.fixture(scope="module")
def examples(config):
    return training_examples(config)


def test_the_shipped_config_is_valid_and_never_trains_on_the_blind_set(config):
    assert validate_config() == []
    assert config is not None and config.enabled
    assert BLIND not in config.labelled
    assert all("blind" not in path.name for path in config.labelled)


def test_training_data_has_every_category_and_the_check_in_answers(examples):
    labels = {label for _, label in examples}
    assert labels == {"none", "self_harm", "abuse", "friend_at_risk"}
    texts = [text for text, _ in examples]
    assert len(set(texts)) == len(texts)  # one label per text
    from bot.safety.classifier import labelled_examples, nlu_negative_examples

    benign_labelled = sum(1 for _, y in labelled_examples(read_config("en").labelled) if y == "none")
    nlu = nlu_negative_examples(PROJECT_ROOT / "data" / "nlu")
    assert len(nlu) > 1000  # the check-in's own answers are negatives too
    assert sum(1 for _, y in examples if y == "none") > benign_labelled


def test_fast_scoring_gives_scikit_learns_probabilities(config, examples):
    model = fit(examples, config.c, config.seed, config.threshold)
    pipeline = make_pipeline(config.c, config.seed)
    pipeline.fit([t for t, _ in examples], [y for _, y in examples])
    texts = ["hi", "", "💀💀💀", "i don’t want to be here anymore", "x" * 10_000,
             *[json.loads(line)["text"] for line in BLIND.read_text(encoding="utf-8").splitlines()[:50]]]
    ours = np.array([model.probabilities(t) for t in texts])
    theirs = pipeline.predict_proba([prepare(t) for t in texts])
    assert model.classes == tuple(pipeline.classes_)
    assert np.abs(ours - theirs).max() < 1e-9


def test_training_is_deterministic(config, examples):
    first = fit(examples, config.c, config.seed, config.threshold)
    second = fit(list(reversed(examples)), config.c, config.seed, config.threshold)
    text = "been thinking everyone would be better off"
    assert first.risk(text) == pytest.approx(second.risk(text))


class FixedOpinion:
    """A stand-in classifier with a known answer, to test how the detector uses one."""

    def __init__(self, p_risk: float, category: str = "abuse", threshold: float = 0.9) -> None:
        self.p_risk, self.category, self.threshold = p_risk, category, threshold
        self.asked = []

    def risk(self, text):
        self.asked.append(text)
        return self.p_risk, self.category


def test_the_lexicon_decides_first_and_the_opinion_only_fills_its_silence():
    detector = build_detector("en", second_opinion=False)
    opinion = FixedOpinion(0.99)
    detector.second_opinion = opinion

    urgent = detector.detect("i’m going to kill myself tonight")
    assert urgent.level == "urgent" and not any(m.startswith("classifier.") for m in urgent.matched)
    assert opinion.asked == []  # never consulted when the lexicon found something

    filled = detector.detect("a message the lexicon has no words for")
    assert (filled.level, filled.category, filled.matched) == ("concern", "abuse", ("classifier.abuse",))


def test_below_the_threshold_nothing_changes():
    detector = build_detector("en", second_opinion=False)
    detector.second_opinion = FixedOpinion(0.89)
    assert not detector.detect("see you at practice").is_risk


def test_the_shipped_detector_has_its_second_opinion():
    detector = get_detector("en")
    assert detector.second_opinion is not None
    assert detector.second_opinion.threshold == read_config("en").threshold


def test_no_everyday_check_in_message_is_flagged():
    """Every NLU example outside risk_disclosure ("often tbh", "delete my data", "bye"): a crisis
    reply to one of these would break the check-in for everyone who types it."""
    from bot.safety.classifier import nlu_negative_examples
    from bot.safety import detect

    flagged = [t for t, _ in nlu_negative_examples(PROJECT_ROOT / "data" / "nlu") if detect(t).is_risk]
    assert flagged == []


@pytest.mark.parametrize(
    "body, message",
    [
        ("languages:\n  en:\n    threshold: 2\n    C: 4\n    labelled: [data/safety/training/en/eval_en.jsonl]\n", "`threshold` must be a number"),
        ("languages:\n  en:\n    threshold: 0.9\n    C: 4\n    labelled: [tests/safety/nope.jsonl]\n", "does not exist"),
        ("languages:\n  en:\n    threshold: 0.9\n    C: 4\n    labelled: [tests/safety/blind2_en.jsonl]\n", "must not be trained on"),
        ("languages:\n  en:\n    enabled: maybe\n    threshold: 0.9\n    C: 4\n    labelled: [data/safety/training/en/eval_en.jsonl]\n", "`enabled` must be true or false"),
        ("languages: [en]\n", "expected a mapping"),
    ],
)
def test_config_errors_name_file_and_line(tmp_path: Path, body: str, message: str):
    path = tmp_path / "classifier.yml"
    path.write_text(body, encoding="utf-8")
    errors = validate_config(path)
    assert len(errors) == 1 and message in str(errors[0])
    assert str(errors[0]).startswith(f"{path}:")
    assert errors[0].line >= 1
