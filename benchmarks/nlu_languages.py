"""Intent F1 per language on the independent sets, and the choice: one model or one per language.

For the trained model (default models/scrollcheck.tar.gz) it reports macro-F1 and per-intent F1 on
tests/nlu/en_blind.yml and tests/nlu/nl_blind.yml (written without seeing data/nlu, never trained
on), and parse speed. With --compare it also trains, with the project's config.yml, an NLU-only
model on the English data alone and one on the Dutch data alone (what "one model per language"
would serve, with a language router in front), and scores each on its own language's set.

Run: .venv/bin/python benchmarks/nlu_languages.py [--model PATH] [--compare]
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Dict, List, Tuple

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("RASA_TELEMETRY_ENABLED", "false")

from tests.nlu.evaluation import HERE, load_examples, macro_f1, per_intent_f1  # noqa: E402

BIN = Path(sys.executable).parent
SETS = {"en": HERE / "en_blind.yml", "nl": HERE / "nl_blind.yml"}


def score(model: Path, langs: List[str]) -> Dict[str, Tuple[float, Dict[str, float], float]]:
    logging.disable(logging.WARNING)
    from rasa.core.agent import Agent

    agent = Agent.load(str(model))
    results = {}
    for lang in langs:
        pairs = load_examples(SETS[lang])
        start = time.perf_counter()
        predicted = []
        for text, _ in pairs:
            parsed = asyncio.run(agent.parse_message(text))
            predicted.append((parsed.get("intent") or {}).get("name") or "nlu_fallback")
        per_message = (time.perf_counter() - start) / len(pairs)
        scores = per_intent_f1(pairs, predicted)
        results[lang] = (macro_f1(scores), scores, per_message)
    return results


def train_nlu_only(nlu_files: List[Path], out: Path) -> Path:
    data = out / "data"
    data.mkdir(parents=True)
    for index, path in enumerate(nlu_files):
        shutil.copy(path, data / f"{index:02d}_{path.name}")
    subprocess.run(
        [
            str(BIN / "rasa"),
            "train",
            "nlu",
            "--config",
            str(ROOT / "config.yml"),
            "--nlu",
            str(data),
            "--out",
            str(out),
            "--fixed-model-name",
            "nlu",
            "--quiet",
        ],
        check=True,
        cwd=ROOT,
    )
    return out / "nlu.tar.gz"


def report(label: str, results: Dict[str, Tuple[float, Dict[str, float], float]]) -> None:
    for lang, (macro, scores, per_message) in results.items():
        worst = ", ".join(
            f"{i} {s:.2f}" for i, s in sorted(scores.items(), key=lambda kv: kv[1])[:6]
        )
        print(f"| {label} | {lang} | {macro:.3f} | {per_message * 1000:.1f} ms | {worst} |")


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--model", type=Path, default=ROOT / "models" / "scrollcheck.tar.gz")
    parser.add_argument("--compare", action="store_true")
    args = parser.parse_args()
    print("| model | set | macro-F1 | parse time per message | lowest intents |")
    print("|---|---|---|---|---|")
    report("one model, both languages (shipped)", score(args.model, ["en", "nl"]))
    if args.compare:
        nlu = ROOT / "data" / "nlu"
        english = sorted(nlu.glob("*.yml"))
        dutch = sorted((nlu / "nl").glob("*.yml")) + [nlu / "language.yml", nlu / "risk.yml"]
        with tempfile.TemporaryDirectory() as tmp:
            report("English-only model", score(train_nlu_only(english, Path(tmp) / "en"), ["en"]))
            report("Dutch-only model", score(train_nlu_only(dutch, Path(tmp) / "nl"), ["nl"]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
