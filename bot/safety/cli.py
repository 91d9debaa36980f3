"""`scrollcheck risk`: classify JSON lines on stdin, or report on a labelled set.

    echo '{"text": "bye", "lang": "en", "context": ["i cant do this anymore"]}' | scrollcheck risk
    {"level": "urgent", "category": "self_harm",
     "matched": ["model.self_harm", "model.urgent", "context"], "lang": "en"}

Input: {"text", "lang"?: the user's language, "context"?: [earlier messages, oldest first]}.
Output: {"level": none|check|concern|urgent, "category", "matched", "lang"}.

One output line per input line, in order. A malformed input line gets {"error": "..."} in its
place and the command exits 1 after the last line. Blank input lines are skipped.

    scrollcheck risk --report tests/safety/blind3_en.jsonl [--min-recall 0.95]
        [--min-urgent-recall 0.85] [--max-fpr 0.03] [--max-check-rate 0.08] [--only lexicon|model]

prints recall, urgent recall, crisis replies and direct checks on benign messages, the misses and
the false positives, and exits 1 when a threshold fails (2 when the file cannot be read).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import IO, Iterable, List, Optional, Union

from bot.content.yamlsource import ContentError
from bot.safety.engine import RiskEngine, get_engine
from bot.safety.evaluation import (
    DEFAULT_MAX_CHECK_RATE,
    DEFAULT_MAX_FPR,
    DEFAULT_MIN_RECALL,
    DEFAULT_MIN_URGENT_RECALL,
    Thresholds,
    evaluate,
    format_report,
    load_labelled,
)


def _classify_line(raw: str, explain: bool) -> dict:
    try:
        data = json.loads(raw)
    except json.JSONDecodeError as exc:
        return {"error": f"not valid JSON: {exc.msg}"}
    if not isinstance(data, dict):
        return {"error": 'each line must be a JSON object like {"text": "...", "lang": "en"}'}
    text = data.get("text")
    if not isinstance(text, str):
        return {"error": "`text` must be a string"}
    lang = data.get("lang")
    if lang is not None and not isinstance(lang, str):
        return {"error": '`lang` must be a string such as "en"'}
    context = data.get("context", [])
    if not isinstance(context, list) or not all(isinstance(c, str) for c in context):
        return {"error": "`context` must be a list of earlier messages (strings), oldest first"}
    engine = get_engine()
    result = engine.detect(text, lang, context)
    output = result.as_dict()
    if explain:
        reading = engine.read(text)
        if reading.model is not None:
            p_risk, category, p_urgent = reading.model
            output["model"] = {
                "p_risk": round(p_risk, 3),
                "category": category,
                "p_urgent": round(p_urgent, 3),
                "capped_by_guard": reading.capped,
            }
        for code, analysis in reading.lexicons.items():
            output[f"lexicon_{code}"] = {
                "normalised": analysis.normalised,
                "hits": [
                    {
                        "id": h.entry.id,
                        "status": h.status,
                        "words": " ".join(analysis.tokens[h.start : h.end]),
                        **({"category": h.category} if h.category else {}),
                        **({"reason": h.reason} if h.reason else {}),
                    }
                    for h in analysis.hits
                ],
            }
    return output


def classify_stream(lines: Iterable[Union[str, bytes]], out: IO[str], explain: bool = False) -> int:
    """Classify each JSON line of `lines` to `out`; 1 if any line was malformed."""
    status = 0
    for raw in lines:
        if isinstance(raw, bytes):
            try:
                raw = raw.decode("utf-8")
            except UnicodeDecodeError:
                # One bad line must not stop the stream (or shift the answers of later lines).
                out.write(json.dumps({"error": "line is not valid UTF-8"}) + "\n")
                status = 1
                continue
        if not raw.strip():
            continue
        output = _classify_line(raw, explain)
        if "error" in output:
            status = 1
        out.write(json.dumps(output, ensure_ascii=False) + "\n")
        out.flush()
    return status


def component(engine: RiskEngine, only: Optional[str]) -> RiskEngine:
    """The full detector, or just its lexicons or just its model (to measure each part)."""
    if only == "lexicon":
        return RiskEngine(engine.lexicons, None)
    if only == "model":
        return RiskEngine({}, engine.model)
    return engine


def report(path: Path, thresholds: Thresholds, out: IO[str], only: Optional[str] = None) -> int:
    try:
        items = load_labelled(path)
    except (OSError, ContentError) as exc:
        print(f"scrollcheck risk: {exc}", file=sys.stderr)
        return 2
    engine = component(get_engine(), only)
    result = evaluate(items, engine.detect)
    out.write(format_report(result, thresholds, str(path)) + "\n")
    failures = thresholds.failures(result)
    if failures:
        out.write("\nFAILED: " + "; ".join(failures) + "\n")
        return 1
    return 0


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(
        prog="scrollcheck risk",
        description='Classify JSON lines {"text": ..., "lang": "en"} from stdin for risk, or report on a labelled set.',
    )
    parser.add_argument(
        "--report", type=Path, metavar="FILE", help="labelled JSON-lines file to measure"
    )
    parser.add_argument("--min-recall", type=float, default=DEFAULT_MIN_RECALL)
    parser.add_argument("--min-urgent-recall", type=float, default=DEFAULT_MIN_URGENT_RECALL)
    parser.add_argument(
        "--max-fpr", type=float, default=DEFAULT_MAX_FPR, help="crisis replies on benign messages"
    )
    parser.add_argument(
        "--max-check-rate",
        type=float,
        default=DEFAULT_MAX_CHECK_RATE,
        help="direct checks on benign messages",
    )
    parser.add_argument(
        "--only", choices=("lexicon", "model"), help="measure one half of the detector"
    )
    parser.add_argument(
        "--explain",
        action="store_true",
        help="also print the normalised text and every pattern hit (for maintainers tuning the lexicon)",
    )
    args = parser.parse_args(argv)
    try:
        if args.report:
            thresholds = Thresholds(
                args.min_recall, args.min_urgent_recall, args.max_fpr, args.max_check_rate
            )
            return report(args.report, thresholds, sys.stdout, args.only)
        if hasattr(sys.stdout, "reconfigure"):
            sys.stdout.reconfigure(encoding="utf-8")
        return classify_stream(sys.stdin.buffer, sys.stdout, explain=args.explain)
    except ContentError as exc:  # a broken lexicon: say where, do not print a traceback
        print(f"scrollcheck risk: {exc}", file=sys.stderr)
        return 2
