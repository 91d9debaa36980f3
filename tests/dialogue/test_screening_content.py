"""Screening YAML: loads, scores, and fails with file and line on malformed entries."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bot.content.yamlsource import ContentError
from bot.screening import load_screening, score_topic
from bot.screening.answers import parse_answer
from bot.screening.content import SCREENING_DIR


@pytest.fixture()
def content_copy(tmp_path: Path) -> Path:
    target = tmp_path / "screening"
    shutil.copytree(SCREENING_DIR, target)
    return target


def test_real_content_loads_with_4_to_6_cited_items_per_topic():
    screening = load_screening()
    assert set(screening.topics) == {"comparison", "fomo", "cyberbullying"}
    for topic in screening.topics.values():
        assert 4 <= len(topic.items) <= 6
        assert all(
            item.source["nl"] and item.text["en"].endswith("?") and item.text["nl"].endswith("?")
            for item in topic.items
        )
        assert [b.id for b in topic.bands] == ["low", "some", "high"]
    assert [p.label["en"] for p in screening.scale] == [
        "Never",
        "Rarely",
        "Sometimes",
        "Often",
        "Very often",
    ]


def test_scoring_is_the_mean_of_answered_items_with_a_band():
    topic = load_screening().topics["comparison"]
    result = score_topic(
        topic,
        {
            "comparison_1": 1,
            "comparison_2": 2,
            "comparison_3": 1,
            "comparison_4": "skipped",
            "comparison_5": None,
        },
    )
    assert result.score == pytest.approx(1.33)
    assert result.band.id == "low"
    assert result.skipped == ("comparison_4", "comparison_5")
    high = score_topic(topic, {f"comparison_{i}": 5 for i in range(1, 6)})
    assert (high.score, high.band.id, len(high.elevated)) == (5.0, "high", 5)


def test_band_edges_follow_the_yaml():
    topic = load_screening().topics["fomo"]
    at_edge = score_topic(
        topic, {"fomo_1": 2, "fomo_2": 3, "fomo_3": 2, "fomo_4": 3, "fomo_5": 2}
    )  # mean 2.4
    assert at_edge.band.id == "low"
    above = score_topic(
        topic, {"fomo_1": 3, "fomo_2": 3, "fomo_3": 2, "fomo_4": 3, "fomo_5": 2}
    )  # 2.6
    assert above.band.id == "some"


def test_too_few_answers_give_no_band():
    topic = load_screening().topics["cyberbullying"]
    result = score_topic(topic, {"cyberbullying_1": 5, "cyberbullying_2": 5})
    assert result.score is None and result.band is None
    assert result.elevated == ("cyberbullying_1", "cyberbullying_2")


@pytest.mark.parametrize(
    "text,value",
    [
        ("Never", 1),
        ("hardly ever", 2),
        ("sometimes i guess", 3),
        ("a lot", 4),
        ("ALL THE TIME!!", 5),
        ("4", 4),
        ("7", None),
        ("pizza", None),
        ("", None),
    ],
)
def test_free_text_answers(text, value):
    assert parse_answer(text, load_screening()) == value


def _break(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def _line_of(path: Path, needle: str) -> int:
    return next(
        i
        for i, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if needle in line
    )


@pytest.mark.parametrize(
    "file,old,new,needle,message",
    [
        (
            "fomo.yml",
            "  - id: fomo_3\n",
            "  - id: fomo_three\n",
            "id: fomo_three",
            "should be 'fomo_3'",
        ),
        ("comparison.yml", "    upto: 3.4\n", "    upto: 2.0\n", "upto: 2.0", "increasing order"),
        (
            "cyberbullying.yml",
            "  - id: cyberbullying_3\n    text:\n",
            "  - id: cyberbullying_3\n    txt:\n",
            "- id: cyberbullying_3",
            "missing required field `text`",
        ),
        (
            "cyberbullying.yml",
            '      nl: "Hoe vaak heeft iemand je bedreigd',
            '      fr: "Hoe vaak heeft iemand je bedreigd',
            'fr: "Hoe vaak',
            "data/languages.yml does not list",
        ),
        (
            "scale.yml",
            "    intent: answer_often\n",
            "    intent: answer_alot\n",
            "answer_alot",
            "intent must be one of",
        ),
        (
            "fomo.yml",
            "  elevated_at: 4\n",
            "  elevated_at: high\n",
            "elevated_at: high",
            "must be int",
        ),
    ],
)
def test_malformed_content_names_file_and_line(content_copy, file, old, new, needle, message):
    path = content_copy / file
    _break(path, old, new)
    with pytest.raises(ContentError) as error:
        load_screening(content_copy)
    assert error.value.path == str(path)
    assert error.value.line == _line_of(path, needle)
    assert message in error.value.message
    assert str(error.value).startswith(f"{path}:{error.value.line}: ")


def test_yaml_syntax_error_names_the_line(content_copy):
    path = content_copy / "fomo.yml"
    _break(path, '    en: "This part', '    en: "This part: [unclosed')
    path.write_text(path.read_text(encoding="utf-8") + "\n  bad: [\n", encoding="utf-8")
    with pytest.raises(ContentError) as error:
        load_screening(content_copy)
    assert error.value.path == str(path) and error.value.line > 1


@pytest.mark.parametrize(
    "text,value",
    [
        ("not often", 2),
        ("not very often", 2),
        ("nooit", 1),
        ("bijna nooit", 2),
        ("niet vaak", 2),
        ("soms wel", 3),
        ("dikwijls", 4),
        ("heel vaak eigenlijk", 5),
        ("de hele tijd", 5),
    ],
)
def test_typed_answers_in_either_language_and_negations_read_right(text, value):
    assert parse_answer(text, load_screening()) == value
