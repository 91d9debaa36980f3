"""What the detector's second opinion (bot/safety/classifier.py) adds, and how its threshold is set.

    .venv/bin/python benchmarks/safety_classifier.py [--language en] [--folds 5]

1. Cross-validation on the training data named in data/safety/classifier.yml (stratified, seed
   42): each fold's classifier is trained on the other folds; the lexicon runs on every message
   (the lexicon was written with these sets, so its figures here are in-sample). For each
   candidate threshold: recall and false-positive rate of the lexicon alone, the classifier alone
   and lexicon-or-classifier. The rule that sets `threshold` in classifier.yml: the lowest
   candidate at which lexicon-or-classifier flags at most MAX_CV_FPR of the benign messages.
2. The blind set (tests/safety/blind2_en.jsonl, never trained on, never used to write the
   lexicon): lexicon alone against the shipped detector at the configured threshold.
3. Latency of the classifier step alone (the lexicon's is in safety_latency.py) and its build time.

Prints a Markdown report. Not a unit test; tests/test_safety_blind.py asserts the floors.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Dict, List, Sequence, Tuple

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot import PROJECT_ROOT  # noqa: E402
from bot.safety.classifier import NONE_CLASS, fit, prepare, read_config, training_examples  # noqa: E402
from bot.safety.detector import build_detector  # noqa: E402
from bot.safety.evaluation import evaluate, load_labelled  # noqa: E402

CANDIDATES = (0.80, 0.85, 0.90, 0.95)
MAX_CV_FPR = 0.02  # two thirds of the 0.03 budget: unseen messages do worse than folds
BLIND = PROJECT_ROOT / "tests" / "safety" / "blind2_en.jsonl"


def rate(flags: Sequence[bool]) -> float:
    return sum(flags) / len(flags) if flags else 0.0


def cross_validate(examples: List[Tuple[str, str]], lexicon_flags: Dict[str, bool], c: float, seed: int, folds: int) -> List[dict]:
    from sklearn.model_selection import StratifiedKFold

    texts = [t for t, _ in examples]
    labels = [y for _, y in examples]
    p_risk: List[float] = [0.0] * len(texts)
    for train, test in StratifiedKFold(folds, shuffle=True, random_state=seed).split(texts, labels):
        model = fit([examples[i] for i in train], c, seed, threshold=1.0)
        for i in test:
            p_risk[i] = model.risk(texts[i])[0]
    risky = [y != NONE_CLASS for y in labels]
    lexicon = [lexicon_flags[t] for t in texts]
    rows = []
    for threshold in CANDIDATES:
        classifier = [p >= threshold for p in p_risk]
        either = [a or b for a, b in zip(lexicon, classifier)]
        row = {"threshold": threshold}
        for name, flags in (("lexicon", lexicon), ("classifier", classifier), ("either", either)):
            row[f"{name}_recall"] = rate([f for f, r in zip(flags, risky) if r])
            row[f"{name}_fpr"] = rate([f for f, r in zip(flags, risky) if not r])
        rows.append(row)
    return rows


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--language", default="en")
    parser.add_argument("--folds", type=int, default=5)
    args = parser.parse_args(argv)

    config = read_config(args.language)
    if config is None:
        print(f"no classifier configured for {args.language!r} in data/safety/classifier.yml")
        return 2
    examples = training_examples(config)
    lexicon_only = build_detector(args.language, second_opinion=False)
    lexicon_flags = {t: lexicon_only.detect(t).is_risk for t, _ in examples}

    started = time.perf_counter()
    rows = cross_validate(examples, lexicon_flags, config.c, config.seed, args.folds)
    cv_seconds = time.perf_counter() - started
    chosen = next((r["threshold"] for r in rows if r["either_fpr"] <= MAX_CV_FPR), None)

    started = time.perf_counter()
    model = fit(examples, config.c, config.seed, config.threshold)
    fit_seconds = time.perf_counter() - started

    blind = load_labelled(BLIND)
    before = evaluate(blind, lambda text, lang: lexicon_only.detect(text))
    lexicon_only.second_opinion = model  # now the detector as shipped, with its own logic
    after = evaluate(blind, lambda text, lang: lexicon_only.detect(text))

    timings: List[float] = []
    for item in blind * 3:
        t0 = time.perf_counter()
        model.risk(item.text)
        timings.append((time.perf_counter() - t0) * 1000)
    timings.sort()

    print(f"# Second opinion ({args.language}): {len(examples)} training messages "
          f"({sum(y != NONE_CLASS for _, y in examples)} risk), C={config.c}, seed {config.seed}\n")
    print(f"## {args.folds}-fold cross-validation ({cv_seconds:.0f} s; lexicon figures are in-sample)\n")
    print("| threshold | lexicon recall / FPR | classifier recall / FPR | either recall / FPR |")
    print("|---|---|---|---|")
    for r in rows:
        print(f"| {r['threshold']:.2f} | {r['lexicon_recall']:.3f} / {r['lexicon_fpr']:.4f} | "
              f"{r['classifier_recall']:.3f} / {r['classifier_fpr']:.4f} | {r['either_recall']:.3f} / {r['either_fpr']:.4f} |")
    print(f"\nRule: lowest threshold with either-FPR <= {MAX_CV_FPR}: **{chosen}**; configured: {config.threshold}"
          + ("" if chosen == config.threshold else "  <-- differs: update data/safety/classifier.yml"))
    print(f"\n## Blind set {BLIND.relative_to(PROJECT_ROOT)} ({len(blind)} messages, never trained on)\n")
    print("| detector | any-risk recall | urgent called urgent | urgent flagged at any level | false-positive rate |")
    print("|---|---|---|---|---|")
    for name, report in (("lexicon alone", before), (f"lexicon + classifier at {config.threshold}", after)):
        print(f"| {name} | {report.recall:.3f} | {report.urgent_recall:.3f} | {report.urgent_flagged:.3f} | {report.false_positive_rate:.3f} |")
    print(f"\nClassifier step: p50 {statistics.median(timings):.3f} ms, p99 {timings[int(0.99 * (len(timings) - 1))]:.3f} ms, "
          f"max {timings[-1]:.3f} ms per message; training {fit_seconds:.1f} s once per process.")
    print(f"Load average: {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
