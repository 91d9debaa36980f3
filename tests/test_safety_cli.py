"""`scrollcheck risk` run as a real process, the way maintainers and CI use it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from bot import PROJECT_ROOT

EVAL_PATH = Path(__file__).parent.parent / "data" / "safety" / "training" / "en" / "eval_en.jsonl"


def run_risk(args, stdin: str = "") -> subprocess.CompletedProcess:
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", "risk", *args],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=PROJECT_ROOT,
        env=env,
        timeout=120,
    )


def test_classifies_json_lines_in_order_and_marks_malformed_lines():
    lines = [
        json.dumps({"text": "i’m going to kill myself tonight", "lang": "en"}, ensure_ascii=False),
        "this is not json",
        "",  # blank lines are skipped, not answered
        json.dumps({"text": "this homework is killing me"}),
        json.dumps({"lang": "en"}),
        json.dumps({"text": "my friend said she wants to kill herself", "lang": "en-GB"}),
        json.dumps(["a list"]),
    ]
    proc = run_risk([], "\n".join(lines) + "\n")
    assert proc.returncode == 1, proc.stderr
    out = [json.loads(line) for line in proc.stdout.splitlines()]
    assert len(out) == 6
    assert out[0]["level"] == "urgent" and out[0]["category"] == "self_harm"
    assert out[0]["matched"] and all(isinstance(m, str) for m in out[0]["matched"])
    assert set(out[1]) == {"error"} and "JSON" in out[1]["error"]
    assert out[2] == {"level": "none", "category": None, "matched": [], "lang": None}
    assert set(out[3]) == {"error"} and "text" in out[3]["error"]
    assert out[4]["level"] == "concern" and out[4]["category"] == "friend_at_risk"
    assert set(out[5]) == {"error"}
    # The user's text never appears in the output, only pattern ids.
    assert "kill myself tonight" not in proc.stdout


def test_a_line_that_is_not_utf8_gets_an_error_and_the_stream_goes_on():
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    stdin = b'{"text": "hi"}\n{"text": "\xff\xfe broken"}\n{"text": "i want to die"}\n'
    proc = subprocess.run(
        [sys.executable, "-m", "bot.cli", "risk"],
        input=stdin,
        capture_output=True,
        cwd=PROJECT_ROOT,
        env=env,
        timeout=120,
    )
    out = [json.loads(line) for line in proc.stdout.decode("utf-8").splitlines()]
    assert proc.returncode == 1
    assert [o.get("level", "error") for o in out] == ["none", "error", "concern"]


def test_well_formed_input_exits_zero_and_explain_shows_the_reasoning():
    proc = run_risk(["--explain"], json.dumps({"text": "I’m not suicidal"}) + "\n")
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["level"] == "none" and out["lexicon_en"]["normalised"] == "i am not suicidal"
    assert 0.0 <= out["model"]["p_risk"] <= 1.0 and "capped_by_guard" in out["model"]


def test_report_on_the_labelled_set_passes_the_thresholds():
    proc = run_risk(["--report", str(EVAL_PATH)])
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "any-risk recall" in proc.stdout and "urgent recall" in proc.stdout
    assert "false-positive rate" in proc.stdout and "FAIL" not in proc.stdout


def test_report_fails_and_lists_misses_and_false_positives(tmp_path):
    labelled = tmp_path / "labelled.jsonl"
    rows = [
        {"text": "i want to die", "level": "none", "category": None},  # will be a false positive
        {"text": "my cat is asleep", "level": "urgent", "category": "self_harm"},  # will be a miss
        {"text": "i’m going to kill myself tonight", "level": "urgent", "category": "self_harm"},
        {"text": "nice weather", "level": "none", "category": None},
    ]
    labelled.write_text(
        "\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n", encoding="utf-8"
    )
    proc = run_risk(["--report", str(labelled)])
    assert proc.returncode == 1
    assert "misses (risk labelled, detector said none): 1" in proc.stdout
    assert '"my cat is asleep"' in proc.stdout
    assert "false positives (benign, crisis reply): 1" in proc.stdout
    assert '"i want to die"' in proc.stdout
    assert "FAILED" in proc.stdout
    # Loosened thresholds make the same set pass.
    proc = run_risk(
        [
            "--report",
            str(labelled),
            "--min-recall",
            "0.5",
            "--min-urgent-recall",
            "0.5",
            "--max-fpr",
            "0.5",
            "--max-check-rate",
            "0.5",
        ]
    )
    assert proc.returncode == 0, proc.stdout


def test_report_on_a_malformed_file_names_file_and_line(tmp_path):
    labelled = tmp_path / "broken.jsonl"
    labelled.write_text(
        '{"text": "hi", "level": "none", "category": null}\n{"text": "x", "level": "severe"}\n',
        encoding="utf-8",
    )
    proc = run_risk(["--report", str(labelled)])
    assert proc.returncode == 2
    assert f"{labelled}:2:" in proc.stderr and "level" in proc.stderr
