"""Intent F1 on an independent labelled set, through Rasa's own parser (POST /model/parse).

The sets here (tests/nlu/<lang>_blind.yml) were written by people who never saw data/nlu; they
are never trained on. benchmarks/nlu_languages.py uses the same scoring to choose between one
model for both languages and one per language.
"""

from __future__ import annotations

import json
import urllib.request
from collections import Counter
from pathlib import Path
from typing import Callable, Dict, List, Tuple

import yaml

HERE = Path(__file__).resolve().parent


def load_examples(path: Path) -> List[Tuple[str, str]]:
    """(text, intent) pairs from a Rasa NLU YAML file."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    pairs = []
    for block in data.get("nlu") or []:
        for line in str(block.get("examples") or "").splitlines():
            line = line.strip()
            if line.startswith("- "):
                pairs.append((line[2:].strip(), block["intent"]))
    return pairs


def rest_parser(rasa_url: str) -> Callable[[str], str]:
    def parse(text: str) -> str:
        request = urllib.request.Request(
            rasa_url + "/model/parse",
            data=json.dumps({"text": text}).encode(),
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            return (json.load(response).get("intent") or {}).get("name") or "nlu_fallback"

    return parse


def per_intent_f1(pairs: List[Tuple[str, str]], predicted: List[str]) -> Dict[str, float]:
    """F1 per gold intent (a fallback or risk_disclosure prediction counts as a miss)."""
    tp, fp, fn = Counter(), Counter(), Counter()
    for (_, gold), got in zip(pairs, predicted):
        if got == gold:
            tp[gold] += 1
        else:
            fn[gold] += 1
            fp[got] += 1
    scores = {}
    for intent in sorted({gold for _, gold in pairs}):
        precision = tp[intent] / (tp[intent] + fp[intent]) if tp[intent] + fp[intent] else 0.0
        recall = tp[intent] / (tp[intent] + fn[intent]) if tp[intent] + fn[intent] else 0.0
        scores[intent] = (
            2 * precision * recall / (precision + recall) if precision + recall else 0.0
        )
    return scores


def macro_f1(scores: Dict[str, float]) -> float:
    return sum(scores.values()) / len(scores)
