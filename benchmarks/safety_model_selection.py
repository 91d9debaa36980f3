"""How the risk model was chosen: cross-validation over model settings (the blind sets' proxy).

    .venv/bin/python benchmarks/safety_model_selection.py [--c 1 4 16 32 64] [--features base char16 word13]

For each setting, 5-fold cross-validation on the training data (data/safety/training and the
NLU examples; the blind sets are never read) gives out-of-fold scores; printed are the recall
(any risk flagged) at the score where 1.5 %, 5 % and 8 % of the benign labelled messages would be
flagged, and how well the urgency model ranks urgent above concern messages (ROC AUC).
Slow (about a minute per setting on 2 cores); not a unit test. docs/safety.md has the results
and why the shipped setting was chosen.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import Optional, Sequence

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402
from sklearn.feature_extraction.text import TfidfVectorizer  # noqa: E402
from sklearn.metrics import roc_auc_score  # noqa: E402

import bot.safety.classifier as classifier  # noqa: E402
from bot.safety.training import out_of_fold  # noqa: E402

WORD_TOKENS = r"(?u)\b\w+\b|[^\w\s|]"


def features(char_range, word_range):
    def build():
        return {
            "char": TfidfVectorizer(
                analyzer="char_wb",
                ngram_range=char_range,
                min_df=2,
                sublinear_tf=True,
                lowercase=False,
                dtype=np.float32,
            ),
            "word": TfidfVectorizer(
                analyzer="word",
                ngram_range=word_range,
                sublinear_tf=True,
                lowercase=False,
                token_pattern=WORD_TOKENS,
                dtype=np.float32,
            ),
        }

    return build


FEATURES = {
    "base": features((2, 5), (1, 2)),
    "char16": features((1, 6), (1, 2)),
    "word13": features((2, 5), (1, 3)),
}


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--c", nargs="*", type=float, default=[1, 4, 16, 32, 64])
    parser.add_argument("--features", nargs="*", default=["base"], choices=sorted(FEATURES))
    args = parser.parse_args(argv)
    config = classifier.read_config()
    examples = classifier.training_examples(config)
    benign = np.array(
        [e.category == classifier.NONE_CLASS and e.source == "labelled" for e in examples]
    )
    risk = np.array([e.category != classifier.NONE_CLASS for e in examples])
    urgent = np.array([e.urgent for e in examples])
    print(
        f"{len(examples)} training messages ({risk.sum()} risk, {benign.sum()} benign labelled)\n"
    )
    print("| features | C | recall at 1.5 % benign | at 5 % | at 8 % | urgency AUC | seconds |")
    print("|---|---|---|---|---|---|---|")
    shipped = classifier._vectorizers
    try:
        for name in args.features:
            classifier._vectorizers = FEATURES[name]
            for c in args.c:
                started = time.perf_counter()
                p_risk, p_urgent = out_of_fold(examples, replace(config, c=c))
                cells = [
                    f"{np.mean(p_risk[risk] >= np.quantile(p_risk[benign], 1 - share)):.3f}"
                    for share in (0.015, 0.05, 0.08)
                ]
                auc = roc_auc_score(urgent[risk], p_urgent[risk])
                print(
                    f"| {name} | {c:g} | {' | '.join(cells)} | {auc:.3f} | {time.perf_counter() - started:.0f} |",
                    flush=True,
                )
    finally:
        classifier._vectorizers = shipped
    return 0


if __name__ == "__main__":
    sys.exit(main())
