"""The detector on every blind set: the full detector, its lexicons alone and its model alone.

    .venv/bin/python benchmarks/safety_detector.py [--sets tests/safety/blind3_en.jsonl ...]

Prints a Markdown table per set, with the issue's definitions (bot/safety/evaluation.py):
any risk flagged (check or above), urgent messages called urgent (the emergency number first),
urgent flagged at any level, crisis replies and direct checks on benign messages, and the
messages read with context. Not a unit test: tests/test_safety_blind.py asserts the floors.
The blind sets are never trained or tuned on (data/safety/classifier.yml cannot list them).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Optional, Sequence

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot import PROJECT_ROOT  # noqa: E402
from bot.safety.cli import component  # noqa: E402
from bot.safety.engine import get_engine  # noqa: E402
from bot.safety.evaluation import evaluate, load_labelled  # noqa: E402

BLIND_SETS = ("blind3_en", "blind4_en", "blind1_nl", "blind2_nl")


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--sets",
        nargs="*",
        type=Path,
        default=[PROJECT_ROOT / "tests" / "safety" / f"{name}.jsonl" for name in BLIND_SETS],
    )
    args = parser.parse_args(argv)
    engine = get_engine()
    t = engine.model.thresholds if engine.model else None
    if t:
        print(f"model thresholds: check {t.check}, concern {t.concern}, urgent {t.urgent}\n")
    for path in (p.resolve() for p in args.sets):
        items = load_labelled(path)
        risk = sum(i.level != "none" for i in items)
        urgent = sum(i.level == "urgent" for i in items)
        print(
            f"## {path.relative_to(PROJECT_ROOT)}: {len(items)} messages ({risk} risk, {urgent} urgent, "
            f"{len(items) - risk} benign, {sum(bool(i.context) for i in items)} with context)\n"
        )
        print(
            "| detector | any risk flagged | urgent called urgent | urgent flagged | benign: crisis reply | benign: direct check |"
        )
        print("|---|---|---|---|---|---|")
        for name in (None, "lexicon", "model"):
            report = evaluate(items, component(engine, name).detect)
            print(
                f"| {name or 'shipped'}{' alone' if name else ''} | {report.recall:.3f} | {report.urgent_recall:.3f} | "
                f"{report.urgent_flagged:.3f} | {report.false_positive_rate:.3f} | {report.check_rate:.3f} |"
            )
        print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
