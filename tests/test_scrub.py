"""bot.privacy.scrub on the labelled set (tests/scrub/cases.yml) and `scrollcheck scrub` over stdin."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from bot.privacy.scrub import evaluate, format_report, load_cases, scrub

CASES_FILE = Path(__file__).parent / "scrub" / "cases.yml"
CASES = load_cases(str(CASES_FILE))


def test_labelled_set_is_big_and_balanced():
    ids = [c["id"] for c in CASES]
    assert len(ids) == len(set(ids)) >= 60
    assert sum(1 for c in CASES if c.get("clean")) >= 25
    assert sum(1 for c in CASES if c.get("secrets")) >= 50
    kinds = {c["id"].split("-")[0] for c in CASES}
    assert {
        "email",
        "phone",
        "url",
        "handle",
        "ipv4",
        "ipv6",
        "iban",
        "address",
        "name",
        "clean",
    } <= kinds


def test_zero_leaks_and_zero_changes_on_the_labelled_set():
    result = evaluate(CASES)
    print("\n" + format_report(result))
    assert result.leaks == []
    assert result.changed_clean == []
    assert result.mismatches == []


@pytest.mark.parametrize("case", [c for c in CASES if c.get("clean")], ids=lambda c: c["id"])
def test_clean_text_is_unchanged(case):
    assert scrub(case["text"], case.get("names") or []) == case["text"]


def test_names_need_whole_words_and_ignore_case():
    assert scrub("Al also knows al and AL.", ["Al"]) == "[name] also knows [name] and [name]."
    assert scrub("Alberto and Sally", ["Al"]) == "Alberto and Sally"
    assert scrub("no names given", []) == "no names given"
    assert scrub("x", ["", " ", "@"]) == "x"


def test_command_line_json_lines_in_order_with_errors_for_bad_lines():
    lines = [
        json.dumps({"text": "I'm Jo, text me on +44 7700 900123 😭", "names": ["Jo"]}),
        "not json",
        json.dumps({"text": "at 10:30 — “24/7”"}),
        json.dumps({"names": ["x"]}),
        "",
        json.dumps({"text": "mail a@b.co", "names": "Jo"}),
        json.dumps(["text"]),
        json.dumps({"text": "last one @handle_1"}),
    ]
    result = subprocess.run(
        [sys.executable, "-m", "bot.cli", "scrub"],
        input="\n".join(lines) + "\n",
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    output = [json.loads(line) for line in result.stdout.splitlines()]
    assert output == [
        {"text": "I'm [name], text me on [phone] 😭"},
        {"error": "line 2: not valid JSON"},
        {"text": "at 10:30 — “24/7”"},
        {"error": 'line 4: expected an object with a string field "text"'},
        {"error": "line 5: empty line"},
        {"error": 'line 6: "names" must be a list of strings'},
        {"error": 'line 7: expected an object with a string field "text"'},
        {"text": "last one [handle]"},
    ]
    assert "not json" not in result.stdout + result.stderr  # errors never echo the input


def test_report_command_prints_the_measured_figures():
    result = subprocess.run(
        [sys.executable, "-m", "bot.cli", "scrub", "--report", str(CASES_FILE)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout
    assert "leaked: 0" in result.stdout and "clean texts changed: 0" in result.stdout


def test_long_text_is_fast():
    import time

    text = ("call me maybe at 10:30, I'm Sam 😭 " * 400) + "sam@example.com"
    started = time.perf_counter()
    output = scrub(text, ["Sam"])
    assert time.perf_counter() - started < 1.0
    assert output.endswith("[email]") and "Sam" not in output
