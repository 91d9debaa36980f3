"""The safety figures through the whole trained NLU pipeline, not just the detector.

Parses every message of the labelled set with the trained model (classifier + RiskDetector
component) and reports any-risk recall and false-positive rate, next to the detector alone. This
is what tells whether the classifier's own `risk_disclosure` adds recall or only false alarms.

    .venv/bin/python benchmarks/risk_through_rasa.py [--model models/scrollcheck.tar.gz]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
ROOT = Path(__file__).resolve().parent.parent


def load_set(path: Path):
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            yield json.loads(line)


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", default=str(ROOT / "models" / "scrollcheck.tar.gz"))
    parser.add_argument(
        "--set", default=str(ROOT / "data" / "safety" / "training" / "en" / "eval_en.jsonl")
    )
    args = parser.parse_args()

    import logging

    from rasa.core.agent import load_agent
    from rasa.utils.log_utils import configure_structlog

    configure_structlog(logging.WARNING)  # Rasa's debug parse logs would print every message text

    from bot.safety import detect

    agent = await load_agent(model_path=args.model)
    rows = list(load_set(Path(args.set)))
    stats = {"pipeline": [0, 0, 0, 0], "detector": [0, 0, 0, 0]}  # tp, fn, fp, tn
    disagreements = []
    for row in rows:
        expected_risk = row.get("level", "none") != "none"
        parsed = await agent.parse_message(row["text"])
        by_pipeline = parsed["intent"]["name"] == "risk_disclosure"
        by_detector = detect(row["text"]).is_risk
        for name, flagged in (("pipeline", by_pipeline), ("detector", by_detector)):
            s = stats[name]
            if expected_risk:
                s[0 if flagged else 1] += 1
            else:
                s[2 if flagged else 3] += 1
        if by_pipeline != by_detector:
            disagreements.append((row["text"], row.get("level"), by_pipeline, by_detector))
    print(f"labelled set: {args.set} ({len(rows)} messages)")
    for name, (tp, fn, fp, tn) in stats.items():
        recall = tp / (tp + fn) if tp + fn else 1.0
        fpr = fp / (fp + tn) if fp + tn else 0.0
        print(
            f"{name:9s} any-risk recall {recall:.3f}  false-positive rate {fpr:.3f}  (tp {tp}, fn {fn}, fp {fp}, tn {tn})"
        )
    for text, level, pipe, det in disagreements:
        print(
            f"  differs: expected={level:8s} pipeline={'risk' if pipe else 'none':4s} detector={'risk' if det else 'none':4s}  {text!r}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
