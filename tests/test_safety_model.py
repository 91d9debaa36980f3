"""The risk model (bot/safety/classifier.py, training.py) and how the engine combines it with the
lexicons and the chat's context (bot/safety/engine.py)."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Optional, Tuple

import numpy as np
import pytest
from scipy.sparse import hstack

from bot import PROJECT_ROOT
from bot.safety.classifier import (
    NONE_CLASS,
    Thresholds,
    fit,
    fit_sklearn,
    inputs_digest,
    load_model,
    read_artefact,
    read_config,
    training_examples,
    validate_config,
)
from bot.safety.engine import CONTEXT_ID, RiskEngine, get_engine, guess_language
from bot.safety.result import CATEGORIES

SMALL = PROJECT_ROOT / "data" / "safety" / "training" / "en" / "holdout_en.jsonl"


@pytest.fixture(scope="module")
def config():
    return read_config()


@pytest.fixture(scope="module")
def examples(config):
    return training_examples(config)


def test_the_shipped_config_is_valid_and_trains_on_nothing_under_tests(config):
    assert validate_config() == []
    assert all((PROJECT_ROOT / "tests") not in path.parents for path in config.training)
    assert all("blind" not in path.name for path in config.training)


@pytest.mark.parametrize("listed", ["tests/safety/blind3_en.jsonl", "tests/safety"])
def test_a_config_that_trains_on_evaluation_data_is_refused_with_file_and_line(
    tmp_path: Path, listed: str
):
    text = (PROJECT_ROOT / "data" / "safety" / "classifier.yml").read_text(encoding="utf-8")
    bad = tmp_path / "classifier.yml"
    bad.write_text(
        text.replace(
            "    - data/safety/training\n", f"    - data/safety/training\n    - {listed}\n"
        ),
        encoding="utf-8",
    )
    errors = validate_config(bad)
    assert len(errors) == 1
    line = next(n for n, row in enumerate(bad.read_text().splitlines(), 1) if listed in row)
    assert f"{bad}:{line}" in str(errors[0]) and "must not be trained on" in str(errors[0])


def test_training_data_covers_both_languages_every_category_and_the_check_in(examples):
    labels = {e.category for e in examples}
    assert labels == {NONE_CLASS, *CATEGORIES}
    labelled = [e for e in examples if e.source == "labelled"]
    for lang, minimum in (("en", 4000), ("nl", 2500)):
        assert sum(e.lang == lang for e in labelled) >= minimum, lang
    assert sum(e.source == "everyday" for e in examples) > 1000  # the check-in's own answers
    assert len({e.text for e in examples}) == len(examples)  # one label per text
    assert sum(" | " in e.text for e in labelled) > 300  # messages read with their context


def test_fast_scoring_gives_scikit_learns_probabilities(examples):
    subset = examples[::4]
    vectorizers, category, urgency = fit_sklearn(subset, 8.0, 42)
    model = fit(subset, 8.0, 42, Thresholds(0.5, 0.9, 0.5))
    texts = [
        "hi",
        "",
        "💀💀💀",
        "i don’t want to be here anymore",
        "ik wil er niet meer zijn",
        "x" * 10_000,
        *[e.text for e in examples[1::97]],
    ]
    from bot.safety.classifier import prepare

    x = hstack([v.transform([prepare(t) for t in texts]) for v in vectorizers.values()]).tocsr()
    expected_risk = 1.0 - category.predict_proba(x)[:, list(category.classes_).index(NONE_CLASS)]
    expected_urgent = urgency.predict_proba(x)[:, 1]
    ours = np.array([model.scores(t) for t in texts], dtype=object)
    np.testing.assert_allclose(ours[:, 0].astype(float), expected_risk, atol=1e-6)
    np.testing.assert_allclose(ours[:, 2].astype(float), expected_urgent, atol=1e-6)


def test_training_is_deterministic(examples):
    subset = examples[::5]
    a = fit(subset, 8.0, 42, Thresholds(0.5, 0.9, 0.5))
    b = fit(subset, 8.0, 42, Thresholds(0.5, 0.9, 0.5))
    assert a.classes == b.classes
    assert np.array_equal(a._coef, b._coef) and np.array_equal(a._urgent_coef, b._urgent_coef)


def test_a_missing_artefact_is_built_once_then_reused_and_a_broken_one_rebuilt(
    tmp_path: Path, config
):
    small = replace(config, training=(SMALL,), folds=3, artefact=tmp_path / "risk" / "model.pkl")
    model = load_model(small)
    assert model.digest == inputs_digest(small)
    t = model.thresholds
    assert 0.2 <= t.check <= t.concern <= 0.995 and 0.05 <= t.urgent <= t.urgent_alone <= 1.0
    assert model.report["cross_validation"]["en"]["risk"] > 100
    stamp = small.artefact.stat().st_mtime_ns
    assert (
        load_model(small).digest == model.digest and small.artefact.stat().st_mtime_ns == stamp
    )  # reused
    small.artefact.write_bytes(b"not a model")
    assert read_artefact(small.artefact) is None
    assert load_model(small).digest == model.digest  # rebuilt


def test_the_shipped_artefact_is_current(config):
    stored = read_artefact(config.artefact)
    assert stored is not None, "run `make train-risk`"
    assert stored.digest == inputs_digest(config)
    assert set(stored.report["cross_validation"]) >= {"all", "en", "nl", "everyday"}


def test_no_everyday_check_in_message_is_flagged(examples):
    """Every NLU example and screening answer: anything above `none` at most 0.5 % (issue 9)."""
    engine = get_engine()
    everyday = [e.text for e in examples if e.source == "everyday"]
    flagged = [t for t in everyday if engine.detect(t).is_risk]
    assert len(flagged) / len(everyday) <= 0.005, flagged


# -- the engine's rules, with a model whose scores the test sets ---------------------------------


class ScriptedModel:
    """Scores by substring: {"word": (p_risk, category, p_urgent)}."""

    thresholds = Thresholds(check=0.5, concern=0.8, urgent=0.7)

    def __init__(self, table) -> None:
        self.table = table

    def scores(self, text: str) -> Tuple[float, Optional[str], float]:
        best = (0.0, "self_harm", 0.0)
        for word, score in self.table.items():
            if word in text and score[0] > best[0]:
                best = score
        return best

    def level_of(self, p_risk: float, p_urgent: float) -> str:
        from bot.safety.classifier import RiskModel

        return RiskModel.level_of(self, p_risk, p_urgent)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def lexicons():
    return get_engine().lexicons


def test_the_stronger_of_lexicon_and_model_wins(lexicons):
    engine = RiskEngine(
        lexicons, ScriptedModel({"roof": (0.9, "self_harm", 0.9), "die": (0.6, "abuse", 0.0)})
    )
    assert engine.detect("standing on the roof").level == "urgent"
    result = engine.detect("i want to die")  # the lexicon's concern beats the model's check
    assert (result.level, result.category) == (
        "concern",
        "self_harm",
    ) and "model.abuse" not in result.matched


def test_a_figure_of_speech_the_lexicon_recognised_caps_the_model_at_check(lexicons):
    engine = RiskEngine(lexicons, ScriptedModel({"shaving": (0.99, "self_harm", 0.99)}))
    assert engine.detect("cut myself shaving lol").level == "check"
    assert (
        engine.detect("out of shaving foam again").level == "urgent"
    )  # no guard: the model decides


def test_the_model_alone_never_sends_crisis_numbers_for_one_or_two_words(lexicons):
    engine = RiskEngine(lexicons, ScriptedModel({"tonight": (0.99, "self_harm", 0.99)}))
    assert engine.detect("tonight").level == "check"
    assert engine.detect("its happening tonight").level == "urgent"
    assert engine.detect("tonight", context=["i wrote a letter to each of them"]).level == "urgent"


def test_context_counts_only_when_together_is_worse_than_each_part(lexicons):
    model = ScriptedModel(
        {
            "nothing matters | sometimes": (0.85, "self_harm", 0.0),
            "nothing matters": (0.3, "self_harm", 0.0),
        }
    )
    engine = RiskEngine(lexicons, model)
    assert engine.detect("sometimes").level == "none"
    result = engine.detect("sometimes", context=["nothing matters"])
    assert result.level == "concern" and CONTEXT_ID in result.matched
    assert engine.detect("ok", context=["nothing matters"]).level == "none"
    # Only the last three earlier messages are read.
    assert engine.detect("sometimes", context=["nothing matters", "a", "b", "c"]).level == "none"


def test_a_yes_or_no_after_a_flagged_message_is_an_answer_not_a_second_alarm(lexicons):
    model = ScriptedModel(
        {
            "nothing matters": (0.55, "self_harm", 0.0),
            "nothing matters | no": (0.99, "self_harm", 0.99),
            "nothing matters | bye": (0.99, "self_harm", 0.99),
        }
    )
    engine = RiskEngine(lexicons, model)
    assert engine.detect("nothing matters").level == "check"
    assert engine.detect("no", context=["nothing matters"]).level == "none"
    assert (
        engine.detect("bye", context=["nothing matters"]).level == "urgent"
    )  # not an answer: read as one


def test_the_reply_language_is_the_language_the_signal_was_read_in(lexicons):
    engine = RiskEngine(
        lexicons, ScriptedModel({"dood": (0.9, "self_harm", 0.0), "xyz": (0.9, "self_harm", 0.0)})
    )
    assert engine.detect("ik wil gewoon dood").lang == "nl"
    assert engine.detect("xyz").lang is None
    assert guess_language("i just cant anymore") == "en"
    assert guess_language("ik kan niet meer") == "nl"
    assert guess_language("ok") is None


def test_the_cases_issue_9_names():
    engine = get_engine()
    assert engine.detect("ik wil dood", lang="nl").is_crisis
    assert engine.detect("ik zie het niet meer zitten", lang="nl").is_risk
    assert engine.detect("i just want to die").is_crisis
    # A disclosure split over two messages is read as one.
    assert engine.detect("bye", context=["i cant do this anymore"]).level == "urgent"
    assert (
        engine.detect("i wont be here tomorrow", context=["nothing matters anymore"]).level
        == "urgent"
    )
    # "nothing matters anymore" is asked about (check) when it is said; "sometimes" after it is
    # then the answer to that question, not a second alarm.
    assert engine.detect("nothing matters anymore").is_risk
    assert not engine.detect("sometimes").is_risk
    assert not engine.detect("often tbh").is_risk


def test_scrollcheck_risk_keeps_its_contract():
    import io

    from bot.safety.cli import classify_stream

    lines = [
        json.dumps({"text": "bye", "lang": "en", "context": ["i cant do this anymore"]}),
        json.dumps({"text": "hi", "context": "not a list"}),
    ]
    out = io.StringIO()
    assert classify_stream(lines, out) == 1
    first, second = [json.loads(line) for line in out.getvalue().splitlines()]
    assert first["level"] in ("check", "concern", "urgent") and set(first) >= {
        "level",
        "category",
        "matched",
        "lang",
    }
    assert "context" in second["error"]
