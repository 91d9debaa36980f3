"""`scrollcheck train-risk`: train the risk model, with thresholds chosen by cross-validation.

    scrollcheck train-risk            # build models/risk/model.pkl if its inputs changed
    scrollcheck train-risk --force    # rebuild anyway
    scrollcheck train-risk --report   # print the cross-validation figures of the stored model

Steps (all deterministic: seed and folds from data/safety/classifier.yml, data sorted by text):
  1. k-fold cross-validation (stratified by category): each fold's model is trained on the other
     folds and scores the held-out messages; the blind sets under tests/ are never read.
  2. Thresholds from those out-of-fold scores, by the policy in classifier.yml:
       concern = lowest p(risk) at which at most `max_benign_crisis` of the benign labelled
                 messages and `max_everyday` of the everyday ones (NLU examples, screening
                 answers) would get a crisis reply;
       check   = lowest p(risk) at which at most `max_benign_check` of the benign labelled
                 messages (and `max_everyday` of the everyday ones) would be asked the check;
       concern, urgent and urgent_alone together (a grid): the most urgent-labelled messages
                 called urgent, then the most risk messages given a crisis reply, with at most
                 `max_benign_crisis` of the benign ones given a crisis reply and at most
                 `max_concern_called_urgent` of the concern-labelled ones sent the emergency path.
  3. One model on all the data, with those thresholds; saved with the cross-validation figures.
Cross-validated figures are optimistic (near-duplicates share folds); the blind sets are the
honest measure (docs/safety.md).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import Dict, List, Optional, Sequence, TextIO, Tuple

import numpy as np

from bot import PROJECT_ROOT
from bot.safety.classifier import (
    NONE_CLASS,
    Example,
    ModelConfig,
    RiskModel,
    Thresholds,
    fit,
    inputs_digest,
    level_for,
    read_artefact,
    read_config,
    save_model,
    training_examples,
)

GRID = tuple(round(x, 3) for x in np.arange(0.20, 0.996, 0.005))
URGENT_GRID = tuple(round(x, 3) for x in np.arange(0.05, 0.996, 0.025))


def out_of_fold(examples: Sequence[Example], config: ModelConfig) -> Tuple[np.ndarray, np.ndarray]:
    """Out-of-fold (p(risk), p(urgent | risk)) for every example."""
    from sklearn.model_selection import StratifiedKFold

    labels = [e.category + ("+u" if e.urgent else "") for e in examples]
    p_risk = np.zeros(len(examples))
    p_urgent = np.zeros(len(examples))
    folds = StratifiedKFold(config.folds, shuffle=True, random_state=config.seed)
    placeholder = Thresholds(1.0, 1.0, 1.0)
    for train_idx, test_idx in folds.split(np.zeros(len(labels)), labels):
        model = fit([examples[i] for i in train_idx], config.c, config.seed, placeholder)
        for i in test_idx:
            p_risk[i], _, p_urgent[i] = model.scores(examples[i].text)
    return p_risk, p_urgent


def _rate(flags: np.ndarray) -> float:
    return float(flags.mean()) if len(flags) else 0.0


def choose_thresholds(
    examples: Sequence[Example], p_risk: np.ndarray, p_urgent: np.ndarray, config: ModelConfig
) -> Thresholds:
    policy = config.policy
    benign = np.array([e.category == NONE_CLASS and e.source == "labelled" for e in examples])
    everyday = np.array([e.source == "everyday" for e in examples])
    risk = np.array([e.category != NONE_CLASS for e in examples])
    urgent = np.array([e.urgent for e in examples])
    concern = risk & ~urgent

    check = next(
        (
            t
            for t in GRID
            if _rate(p_risk[benign] >= t) <= policy.max_benign_check
            and _rate(p_risk[everyday] >= t) <= policy.max_everyday
        ),
        GRID[-1],
    )
    # Concern and the two urgent thresholds together: the most urgent messages called urgent
    # (then the most risk messages given a crisis reply), within the benign and over-escalation
    # budgets.
    flagged = p_risk >= check
    best: Optional[Tuple[Tuple[float, float], Thresholds]] = None
    for t_concern in (t for t in GRID if t >= check):
        crisis_base = p_risk >= t_concern
        if _rate(crisis_base[benign]) > policy.max_benign_crisis:
            continue
        for t_alone in URGENT_GRID:
            alone = flagged & (p_urgent >= t_alone)
            for t_urgent in URGENT_GRID:
                if t_urgent > t_alone:
                    break
                called_urgent = alone | (crisis_base & (p_urgent >= t_urgent))
                crisis = crisis_base | called_urgent
                if (
                    _rate(crisis[benign]) > policy.max_benign_crisis
                    or _rate(called_urgent[concern]) > policy.max_concern_called_urgent
                ):
                    continue
                key = (_rate(called_urgent[urgent]), _rate(crisis[risk]))
                if best is None or key > best[0]:
                    best = (key, Thresholds(check, t_concern, t_urgent, t_alone))
    return best[1] if best else Thresholds(check, GRID[-1], GRID[-1], 1.0)


def cv_figures(
    examples: Sequence[Example], p_risk: np.ndarray, p_urgent: np.ndarray, t: Thresholds
) -> Dict[str, Dict[str, float]]:
    """What the model alone does out of fold at thresholds `t`, per language and overall."""
    figures: Dict[str, Dict[str, float]] = {}
    for lang in ("all", *sorted({e.lang for e in examples if e.source == "labelled"})):
        chosen = np.array(
            [e.source == "labelled" and (lang == "all" or e.lang == lang) for e in examples]
        )
        risk = chosen & np.array([e.category != NONE_CLASS for e in examples])
        urgent = chosen & np.array([e.urgent for e in examples])
        benign = chosen & ~risk
        levels = np.array([level_for(t, a, b) for a, b in zip(p_risk, p_urgent)])
        crisis = (levels == "concern") | (levels == "urgent")
        figures[lang] = {
            "risk": int(risk.sum()),
            "urgent": int(urgent.sum()),
            "benign": int(benign.sum()),
            "any_risk_recall": _rate((levels != "none")[risk]),
            "crisis_recall": _rate(crisis[risk]),
            "urgent_called_urgent": _rate((levels == "urgent")[urgent]),
            "concern_called_urgent": _rate((levels == "urgent")[risk & ~urgent]),
            "benign_crisis": _rate(crisis[benign]),
            "benign_check_or_above": _rate((levels != "none")[benign]),
        }
    everyday = np.array([e.source == "everyday" for e in examples])
    figures["everyday"] = {
        "messages": int(everyday.sum()),
        "flagged": _rate(p_risk[everyday] >= t.check),
    }
    return figures


def train(config: Optional[ModelConfig] = None, *, out: Optional[TextIO] = None) -> RiskModel:
    """Cross-validate, choose thresholds, train on everything, save; returns the model."""
    config = config or read_config()
    started = time.perf_counter()
    examples = training_examples(config)
    p_risk, p_urgent = out_of_fold(examples, config)
    thresholds = choose_thresholds(examples, p_risk, p_urgent, config)
    report = {
        "examples": len(examples),
        "risk_examples": sum(e.category != NONE_CLASS for e in examples),
        "folds": config.folds,
        "C": config.c,
        "seed": config.seed,
        "thresholds": dict(thresholds.__dict__),
        "policy": config.policy.__dict__,
        "cross_validation": cv_figures(examples, p_risk, p_urgent, thresholds),
    }
    model = fit(examples, config.c, config.seed, thresholds, inputs_digest(config))
    report["seconds"] = round(time.perf_counter() - started, 1)
    model.report = report
    save_model(model, config.artefact)
    if out is not None:
        out.write(format_report(report) + "\n")
    return model


def format_report(report: dict) -> str:
    t = report["thresholds"]
    lines = [
        f"risk model: {report['examples']} training messages ({report['risk_examples']} risk), "
        f"{report['folds']}-fold cross-validation, C={report['C']}, seed {report['seed']}, {report.get('seconds', '?')} s",
        f"thresholds: check p(risk) >= {t['check']}, concern p(risk) >= {t['concern']}, urgent p(urgent|risk) >= "
        f"{t['urgent']} (with concern) or >= {t['urgent_alone']} (with check)",
        "",
        "| language | risk / urgent / benign | any risk flagged | crisis reply | urgent called urgent | concern called urgent | benign: crisis reply | benign: check or above |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for lang, f in report["cross_validation"].items():
        if lang == "everyday":
            continue
        lines.append(
            f"| {lang} | {f['risk']} / {f['urgent']} / {f['benign']} | {f['any_risk_recall']:.3f} | {f['crisis_recall']:.3f} | "
            f"{f['urgent_called_urgent']:.3f} | {f['concern_called_urgent']:.3f} | {f['benign_crisis']:.3f} | {f['benign_check_or_above']:.3f} |"
        )
    everyday = report["cross_validation"]["everyday"]
    lines.append(
        f"\neveryday check-in messages ({everyday['messages']}): flagged at any level {everyday['flagged']:.4f}"
    )
    lines.append("(model alone, out of fold; the lexicon runs beside it at run time)")
    return "\n".join(lines)


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(
        prog="scrollcheck train-risk", description=__doc__.splitlines()[0]
    )
    parser.add_argument(
        "--force", action="store_true", help="rebuild even if the artefact is current"
    )
    parser.add_argument(
        "--report", action="store_true", help="print the stored model's figures and exit"
    )
    args = parser.parse_args(argv)
    from bot.content.yamlsource import ContentError

    try:
        config = read_config()
        stored = read_artefact(config.artefact)
        if args.report:
            if stored is None:
                print(
                    "scrollcheck train-risk: no model yet; run `scrollcheck train-risk`",
                    file=sys.stderr,
                )
                return 2
            print(format_report(stored.report))
            print(json.dumps(stored.report["thresholds"]))
            return 0
        if stored is not None and stored.digest == inputs_digest(config) and not args.force:
            print(f"risk model is current: {config.artefact.relative_to(PROJECT_ROOT)}")
            return 0
        train(config, out=sys.stdout)
        print(f"saved {config.artefact.relative_to(PROJECT_ROOT)}")
        return 0
    except ContentError as exc:
        print(f"scrollcheck train-risk: {exc}", file=sys.stderr)
        return 2
