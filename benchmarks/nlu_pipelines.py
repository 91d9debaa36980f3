"""Pick the NLU pipeline by measurement: the project's config.yml against Rasa's stock DIET+TED.

For each configuration, with the project's own data (data/, domain.yml):

1. Intent quality. Macro-F1 and accuracy by stratified k-fold cross-validation (3 folds by
   default, the same folds with seed 42 for every configuration) and on one fixed held-out
   split (80/20, stratified by intent, seed 42). The whole pipeline is evaluated as it runs in
   production, FallbackClassifier and RiskDetector included: an `nlu_fallback` counts as a miss,
   every intent in data/nlu counts, no example is left out. Macro-F1 is averaged over the intents of the data.
2. Serving cost. `rasa train` of the full model (timed, training cache off), then the action
   server and `rasa run` on loopback with the REST channel and an in-memory tracker store:
   start-up time until GET / answers, RSS after a warm-up, and messages per second through
   POST /webhooks/rest/webhook with concurrent simulated users, each running scripted check-ins
   (buttons and free text, interruptions, skip, stop and resume) with p50/p95 latency.
3. A Markdown table on stdout and in benchmarks/results/latest.md (details, transcripts and logs
   beside it), with the date, the machine and the exact command.

Run:  .venv/bin/python benchmarks/nlu_pipelines.py [--quick] [--folds N] [--messages N] ...
--quick cuts folds, messages and DIET/TED epochs so the whole path runs in a few minutes; its
figures are for checking the script, not for the README.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import platform
import shlex
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from multiprocessing import get_context
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Tuple

import yaml

PROJECT_ROOT = Path(__file__).resolve().parents[1]
BENCH_DIR = PROJECT_ROOT / "benchmarks"
RESULTS_DIR = BENCH_DIR / "results"
BIN = Path(sys.executable).parent

CONFIGS: Dict[str, Path] = {
    "ours": PROJECT_ROOT / "config.yml",
    "stock": BENCH_DIR / "configs" / "stock_diet_ted.yml",
}
LABELS = {"ours": "ours (config.yml)", "stock": "stock DIET+TED"}
RISK_COMPONENT = "bot.nlp.risk_component.RiskDetector"
FALLBACK_INTENT = "nlu_fallback"
RISK_INTENT = "risk_disclosure"
SEED = 42
HOLDOUT_FRACTION = 0.2
# 3 folds, not 5: on 2 cores one DIET training on this data takes 4-7 minutes, and 5 folds of it
# (plus the hold-out and the full model) do not fit the 25-minute budget. Same folds for both.
DEFAULT_FOLDS = 3

# Environment for everything this script starts: quiet TensorFlow, and no training cache, so
# every training starts cold and the two configurations pay the same price.
BENCH_ENV = {
    "TF_CPP_MIN_LOG_LEVEL": "3",
    "SQLALCHEMY_SILENCE_UBER_WARNING": "1",
    "PYTHONWARNINGS": "ignore::DeprecationWarning",
    "RASA_MAX_CACHE_SIZE": "0",
    "RASA_TELEMETRY_ENABLED": "false",
}

# Scripted check-ins the simulated users run (button presses are their payloads). Each covers
# the whole check-in for one topic, with the interruptions and free-text answers young people
# actually send; together they touch every dialogue path that costs something at run time.
SCRIPTS: Dict[str, List[str]] = {
    "comparison, buttons, 'why do you ask'": [
        "hi",
        "/affirm",
        "16-17",
        "UK",
        "/choose_comparison",
        "/answer_often",
        "why do you ask",
        "/answer_sometimes",
        "/answer_very_often",
        "/answer_rarely",
        "/answer_often",
        "/affirm",
        "thanks",
        "bye",
    ],
    "fomo, free text, privacy question": [
        "hey",
        "yeah sure",
        "im 15",
        "ireland",
        "fomo",
        "all the time",
        "sometimes tbh",
        "what happens to my answers",
        "not really",
        "a lot",
        "never",
        "no keep it private",
        "thx",
    ],
    "cyberbullying, skip, 'are you real', unclear answer": [
        "hello",
        "ok",
        "18-25",
        "the netherlands",
        "/choose_cyberbullying",
        "/answer_never",
        "skip",
        "are you a real person?",
        "/answer_rarely",
        "hmm idk",
        "kinda sometimes",
        "rarely tbh",
        "/affirm",
        "bye",
    ],
    "all three topics, stop and resume, diagnosis request": [
        "hiii",
        "ye",
        "16",
        "uk",
        "/choose_all",
        "/answer_sometimes",
        "often tbh",
        "/answer_rarely",
        "i wanna stop",
        "/start_screening",
        "/answer_never",
        "/answer_often",
        "can you tell me if i have anxiety",
        "/answer_sometimes",
        "hardly ever",
        "/answer_very_often",
        "/answer_sometimes",
        "/answer_rarely",
        "/answer_never",
        "sometimes",
        "/answer_often",
        "/answer_rarely",
        "/answer_never",
        "/deny",
        "bye",
    ],
}


# --------------------------------------------------------------------------------------------
# Configurations
# --------------------------------------------------------------------------------------------
def effective_configs(
    workdir: Path, names: Sequence[str], quick: bool, without_risk: bool
) -> Dict[str, Path]:
    """Copies of the configurations as benchmarked: --quick cuts epochs, and the RiskDetector can
    be left out (it does not train; it only overrides the intent on a risk signal)."""
    out: Dict[str, Path] = {}
    for name in names:
        config = yaml.safe_load(CONFIGS[name].read_text(encoding="utf-8"))
        if without_risk:
            config["pipeline"] = [c for c in config["pipeline"] if c.get("name") != RISK_COMPONENT]
        if quick:
            for component in config["pipeline"] + config.get("policies", []):
                if "epochs" in component:
                    component["epochs"] = 10
        path = workdir / f"config_{name}.yml"
        path.write_text(
            yaml.safe_dump(config, sort_keys=False, allow_unicode=True), encoding="utf-8"
        )
        out[name] = path
    return out


# --------------------------------------------------------------------------------------------
# Intent quality: cross-validation and a fixed held-out split
# --------------------------------------------------------------------------------------------
Example = Tuple[str, str]  # (text, intent)


def load_examples() -> List[Example]:
    """Every intent example in data/nlu, in a fixed order (so the seeded splits are stable)."""
    from rasa.shared.nlu.training_data.loading import load_data

    data = load_data(str(PROJECT_ROOT / "data" / "nlu"))
    return sorted((m.get("text"), m.get("intent")) for m in data.intent_examples)


def make_splits(examples: Sequence[Example], folds: int) -> List[Tuple[str, List[int], List[int]]]:
    """(split name, train indices, test indices): k stratified folds and the 80/20 hold-out."""
    from sklearn.model_selection import StratifiedKFold, train_test_split

    indices = list(range(len(examples)))
    labels = [intent for _, intent in examples]
    splits = []
    skf = StratifiedKFold(n_splits=folds, shuffle=True, random_state=SEED)
    for i, (train, test) in enumerate(skf.split(indices, labels), start=1):
        splits.append((f"cv{i}", [int(j) for j in train], [int(j) for j in test]))
    train, test = train_test_split(
        indices, test_size=HOLDOUT_FRACTION, stratify=labels, random_state=SEED
    )
    splits.append(("holdout", sorted(train), sorted(test)))
    return splits


def _redirect_output(log_path: Path) -> None:
    """Send this worker's stdout/stderr (DIET/TED progress bars, Rasa logs) to a log file."""
    sys.stdout.flush()
    sys.stderr.flush()
    fd = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    os.close(fd)


def evaluate_split(task: Dict[str, Any]) -> Dict[str, Any]:
    """Worker: train an NLU model on one split's training part and parse its test part."""
    os.chdir(PROJECT_ROOT)  # SpacyNLP's model path in config.yml is relative to the project root
    _redirect_output(Path(task["log"]))
    # Trainings side by side share the cores instead of each TensorFlow grabbing all of them.
    os.environ["TF_INTRA_OP_PARALLELISM_THREADS"] = os.environ[
        "TF_INTER_OP_PARALLELISM_THREADS"
    ] = str(task["threads"])
    from rasa.utils.tensorflow.environment import setup_tf_environment

    setup_tf_environment()
    from rasa.core.agent import Agent
    from rasa.model_training import train_nlu
    from rasa.shared.nlu.training_data.formats.rasa_yaml import RasaYAMLWriter
    from rasa.shared.nlu.training_data.message import Message
    from rasa.shared.nlu.training_data.training_data import TrainingData

    workdir = Path(task["workdir"])
    workdir.mkdir(parents=True, exist_ok=True)
    train_file = workdir / "nlu.yml"
    messages = [Message.build(text=text, intent=intent) for text, intent in task["train"]]
    RasaYAMLWriter().dump(train_file, TrainingData(training_examples=messages))

    started = time.perf_counter()
    model = train_nlu(
        config=task["config_path"],
        nlu_data=str(train_file),
        output=str(workdir),
        fixed_model_name="nlu",
    )
    train_seconds = time.perf_counter() - started
    if not model:
        raise RuntimeError(
            f"NLU training failed for {task['config']} {task['split']}; see {task['log']}"
        )
    agent = Agent.load(model)

    async def parse_all() -> List[Dict[str, Any]]:
        records = []
        for text, intent in task["test"]:
            parsed = await agent.parse_message(text)
            ranking = [
                (r["name"], float(r["confidence"])) for r in parsed.get("intent_ranking") or []
            ]
            records.append(
                {
                    "text": text,
                    "true": intent,
                    "pred": (parsed.get("intent") or {}).get("name"),
                    "ranking": ranking[:4],
                    "risk_fired": "risk" in parsed,
                }
            )
        return records

    return {
        "config": task["config"],
        "split": task["split"],
        "train_seconds": train_seconds,
        "model": str(model),
        "records": asyncio.run(parse_all()),
    }


def time_parsing(model: str, texts: List[str], log: str, rounds: int = 3) -> Dict[str, float]:
    """Worker: NLU alone, in-process, one message at a time (after 20 warm-up parses).

    Run with nothing else training, so it tells how much of the webhook latency is NLU.
    """
    os.chdir(PROJECT_ROOT)
    _redirect_output(Path(log))
    from rasa.core.agent import Agent

    agent = Agent.load(model)

    async def run() -> List[float]:
        for text in texts[:20]:
            await agent.parse_message(text)
        timings = []
        for _ in range(rounds):
            for text in texts:
                started = time.perf_counter()
                await agent.parse_message(text)
                timings.append((time.perf_counter() - started) * 1000)
        return timings

    timings = sorted(asyncio.run(run()))
    return {
        "messages": len(timings),
        "p50_ms": round(percentile(timings, 50), 2),
        "p95_ms": round(percentile(timings, 95), 2),
        "msgs_per_s": round(1000 * len(timings) / sum(timings), 1),
    }


def decide(record: Dict[str, Any], threshold: float, ambiguity: float) -> str:
    """The pipeline's answer had FallbackClassifier used these thresholds (for the sweep)."""
    if record["risk_fired"]:
        return RISK_INTENT  # the RiskDetector overrides whatever the classifier and fallback said
    ranking = [r for r in record["ranking"] if r[0] != FALLBACK_INTENT]
    if not ranking or ranking[0][1] < threshold:
        return FALLBACK_INTENT
    if len(ranking) > 1 and ranking[0][1] - ranking[1][1] < ambiguity:
        return FALLBACK_INTENT
    return ranking[0][0]


def scores(
    records: Sequence[Dict[str, Any]], predictions: Optional[Sequence[str]] = None
) -> Dict[str, float]:
    """Macro-F1 over the data's intents (a fallback is a miss) and accuracy."""
    from sklearn.metrics import accuracy_score, f1_score

    y_true = [r["true"] for r in records]
    y_pred = list(predictions) if predictions is not None else [r["pred"] for r in records]
    labels = sorted(set(y_true))
    return {
        "macro_f1": float(
            f1_score(y_true, y_pred, labels=labels, average="macro", zero_division=0)
        ),
        "accuracy": float(accuracy_score(y_true, y_pred)),
        "fallback_rate": sum(p == FALLBACK_INTENT for p in y_pred) / len(y_pred),
        "n": len(y_true),
    }


def run_nlu_evaluation(
    configs: Dict[str, Path], folds: int, jobs: int, workdir: Path, log_dir: Path
) -> Dict[str, Any]:
    examples = load_examples()
    splits = make_splits(examples, folds)
    tasks = []
    # The slow configuration's tasks first, so two workers stay busy until the end.
    for name in sorted(configs, key=lambda n: n != "stock"):
        for split, train, test in splits:
            tasks.append(
                {
                    "config": name,
                    "config_path": str(configs[name]),
                    "split": split,
                    "train": [examples[i] for i in train],
                    "test": [examples[i] for i in test],
                    "workdir": str(workdir / "nlu" / name / split),
                    "log": str(log_dir / f"nlu_{name}_{split}.log"),
                    "threads": max(1, (os.cpu_count() or 1) // jobs),
                }
            )
    print(
        f"NLU: {len(examples)} examples, {len(set(i for _, i in examples))} intents; "
        f"{len(tasks)} trainings ({folds} folds + hold-out per configuration), {jobs} at a time",
        flush=True,
    )
    results: List[Dict[str, Any]] = []
    # A fresh process per training (spawn, one task per child): no TensorFlow state or memory
    # carries over from one configuration or fold into the next.
    with get_context("spawn").Pool(processes=jobs, maxtasksperchild=1) as pool:
        pending = [pool.apply_async(evaluate_split, (task,)) for task in tasks]
        for task, handle in zip(tasks, pending):
            result = handle.get()
            print(
                f"  {task['config']:<5} {task['split']:<8} trained in {result['train_seconds']:.0f} s, "
                f"macro-F1 {scores(result['records'])['macro_f1']:.3f}",
                flush=True,
            )
            results.append(result)
    summary = summarise_nlu(configs, results, folds, examples)
    # NLU speed alone, one configuration at a time on an otherwise idle pool.
    with get_context("spawn").Pool(processes=1, maxtasksperchild=1) as pool:
        for name in configs:
            holdout = next(r for r in results if r["config"] == name and r["split"] == "holdout")
            texts = [r["text"] for r in holdout["records"]]
            summary[name]["nlu_parse"] = pool.apply(
                time_parsing,
                (holdout["model"], texts, str(log_dir / f"nlu_{name}_parse_timing.log")),
            )
    return summary


def summarise_nlu(
    configs: Dict[str, Path], results: List[Dict[str, Any]], folds: int, examples: Sequence[Example]
) -> Dict[str, Any]:
    summary: Dict[str, Any] = {
        "folds": folds,
        "examples": len(examples),
        "intents": len(set(i for _, i in examples)),
    }
    for name in configs:
        mine = [r for r in results if r["config"] == name]
        cv = [scores(r["records"]) for r in mine if r["split"].startswith("cv")]
        holdout = next(r for r in mine if r["split"] == "holdout")
        cv_records = [rec for r in mine if r["split"].startswith("cv") for rec in r["records"]]
        summary[name] = {
            "cv_macro_f1_mean": statistics.mean(s["macro_f1"] for s in cv),
            "cv_macro_f1_sd": statistics.stdev(s["macro_f1"] for s in cv) if len(cv) > 1 else 0.0,
            "cv_accuracy_mean": statistics.mean(s["accuracy"] for s in cv),
            "cv_fallback_rate": statistics.mean(s["fallback_rate"] for s in cv),
            "cv_folds": cv,
            "holdout": scores(holdout["records"]),
            "holdout_per_intent_f1": per_intent_f1(holdout["records"]),
            "holdout_errors": [
                {"text": r["text"], "true": r["true"], "pred": r["pred"]}
                for r in holdout["records"]
                if r["pred"] != r["true"]
            ],
            "fallback_sweep": fallback_sweep(cv_records, holdout["records"]),
            "sweep_check": sweep_check(configs[name], cv_records, holdout["records"]),
            "nlu_train_seconds": {r["split"]: round(r["train_seconds"], 1) for r in mine},
            "holdout_records": holdout["records"],
        }
    return summary


def configured_fallback(config_path: Path) -> Tuple[float, float]:
    """The FallbackClassifier's threshold and ambiguity_threshold in a config (Rasa's defaults)."""
    config = yaml.safe_load(Path(config_path).read_text(encoding="utf-8"))
    for component in config.get("pipeline", []):
        if component.get("name") == "FallbackClassifier":
            return float(component.get("threshold", 0.3)), float(
                component.get("ambiguity_threshold", 0.1)
            )
    return 0.0, 0.0


def sweep_check(
    config_path: Path,
    cv_records: Sequence[Dict[str, Any]],
    holdout_records: Sequence[Dict[str, Any]],
) -> Dict[str, Any]:
    """Does `decide` at the configured thresholds give the pipeline's own answers?

    It cannot where a component after the FallbackClassifier changes the intent without a
    threshold: the RiskDetector replaces a classifier-only `risk_disclosure` (detector silent) by
    the next-ranked intent, whatever its confidence. Those messages are listed, because each is an
    intent the bot acts on that the fallback never checked.
    """
    threshold, ambiguity = configured_fallback(config_path)
    records = list(cv_records) + list(holdout_records)
    mismatches = [r for r in records if decide(r, threshold, ambiguity) != r["pred"]]
    return {
        "threshold": threshold,
        "ambiguity_threshold": ambiguity,
        "messages": len(records),
        "mismatches": [
            {
                "text": r["text"],
                "true": r["true"],
                "pred": r["pred"],
                "pred_confidence": round(r["ranking"][0][1], 3) if r["ranking"] else None,
            }
            for r in mismatches
        ],
    }


def per_intent_f1(records: Sequence[Dict[str, Any]]) -> Dict[str, float]:
    from sklearn.metrics import f1_score

    y_true = [r["true"] for r in records]
    y_pred = [r["pred"] for r in records]
    labels = sorted(set(y_true))
    values = f1_score(y_true, y_pred, labels=labels, average=None, zero_division=0)
    return {label: round(float(v), 3) for label, v in zip(labels, values)}


def fallback_sweep(
    cv_records: Sequence[Dict[str, Any]], holdout_records: Sequence[Dict[str, Any]]
) -> List[Dict[str, float]]:
    """Macro-F1 had the FallbackClassifier used other thresholds (same trained models).

    On in-domain test data a lower threshold can only look better; the fallback's job is the
    messages that fit no intent, so read this as "how much in-domain F1 the fallback costs".
    CV figures here pool the folds' predictions (one F1 over all of them).
    """
    rows = []
    for threshold in (0.0, 0.2, 0.3, 0.4, 0.5):
        for ambiguity in (0.0, 0.05, 0.1):
            rows.append(
                {
                    "threshold": threshold,
                    "ambiguity_threshold": ambiguity,
                    "cv_pooled_macro_f1": round(
                        scores(cv_records, [decide(r, threshold, ambiguity) for r in cv_records])[
                            "macro_f1"
                        ],
                        4,
                    ),
                    "holdout_macro_f1": round(
                        scores(
                            holdout_records,
                            [decide(r, threshold, ambiguity) for r in holdout_records],
                        )["macro_f1"],
                        4,
                    ),
                    "holdout_fallback_rate": round(
                        scores(
                            holdout_records,
                            [decide(r, threshold, ambiguity) for r in holdout_records],
                        )["fallback_rate"],
                        4,
                    ),
                }
            )
    return rows


# --------------------------------------------------------------------------------------------
# Serving cost: training time, start-up, memory, throughput
# --------------------------------------------------------------------------------------------
def child_env(extra: Optional[Dict[str, str]] = None) -> Dict[str, str]:
    env = dict(os.environ)
    env.update(BENCH_ENV)
    env["PYTHONPATH"] = str(PROJECT_ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    env.update(extra or {})
    return env


def train_full_model(
    name: str, config_path: Path, out_dir: Path, log_path: Path
) -> Tuple[Path, float]:
    """`rasa train` on everything in data/ (NLU + rules + stories), timed, with no cache."""
    command = [
        str(BIN / "rasa"),
        "train",
        "--config",
        str(config_path),
        "--domain",
        "domain.yml",
        "--data",
        "data",
        "--out",
        str(out_dir),
        "--fixed-model-name",
        f"bench_{name}",
    ]
    started = time.perf_counter()
    with open(log_path, "wb") as log:
        completed = subprocess.run(
            command, cwd=PROJECT_ROOT, env=child_env(), stdout=log, stderr=subprocess.STDOUT
        )
    seconds = time.perf_counter() - started
    model = out_dir / f"bench_{name}.tar.gz"
    if completed.returncode != 0 or not model.exists():
        raise RuntimeError(
            f"rasa train failed for {name} (exit {completed.returncode}); see {log_path}"
        )
    return model, seconds


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start(args: List[str], log_path: Path, env: Dict[str, str]) -> subprocess.Popen:
    log = open(log_path, "wb")
    # Own process group, so stopping it stops exactly what we started.
    return subprocess.Popen(
        args,
        cwd=PROJECT_ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        try:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)
        except ProcessLookupError:
            pass


def wait_until_up(url: str, process: subprocess.Popen, timeout: float, log_path: Path) -> float:
    """Seconds until `url` answers 200; polls every 50 ms."""
    started = time.perf_counter()
    while time.perf_counter() - started < timeout:
        if process.poll() is not None:
            raise RuntimeError(
                f"process exited with {process.returncode} before answering; see {log_path}"
            )
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return time.perf_counter() - started
        except OSError:
            pass
        time.sleep(0.05)
    raise RuntimeError(f"{url} did not answer within {timeout:.0f} s; see {log_path}")


def start_action_server(workdir: Path, log_dir: Path) -> Tuple[subprocess.Popen, int]:
    """The project's action server on a throw-away SQLite database (migrated first)."""
    env = child_env(
        {"DATABASE_URL": f"sqlite:///{workdir / 'bench.db'}", "SANIC_HOST": "127.0.0.1"}
    )
    with open(log_dir / "migrate.log", "wb") as log:
        subprocess.run(
            [str(BIN / "scrollcheck"), "migrate"],
            cwd=PROJECT_ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            check=True,
        )
    port = free_port()
    log_path = log_dir / "actions.log"
    process = start(
        [str(BIN / "rasa"), "run", "actions", "--actions", "actions", "--port", str(port)],
        log_path,
        env,
    )
    wait_until_up(f"http://127.0.0.1:{port}/health", process, 120, log_path)
    return process, port


def process_tree(pid: int) -> List[int]:
    """pid and all its descendants (from /proc; psutil is not installed)."""
    parents: Dict[int, List[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
            parents.setdefault(ppid, []).append(int(entry.name))
    tree, todo = [], [pid]
    while todo:
        current = todo.pop()
        tree.append(current)
        todo.extend(parents.get(current, []))
    return tree


def memory_mb(pid: int, field_name: str = "VmRSS") -> float:
    """Sum of a /proc/PID/status memory field (kB) over the process tree, in MB."""
    total_kb = 0
    for member in process_tree(pid):
        try:
            for line in Path(f"/proc/{member}/status").read_text().splitlines():
                if line.startswith(field_name + ":"):
                    total_kb += int(line.split()[1])
        except OSError:
            continue
    return total_kb / 1024


@dataclass
class LoadResult:
    messages: int = 0
    seconds: float = 0.0
    latencies_ms: List[float] = field(default_factory=list)
    http_errors: int = 0
    empty_replies: int = 0
    fallback_replies: int = 0

    def summary(self) -> Dict[str, Any]:
        lat = sorted(self.latencies_ms)
        return {
            "messages": self.messages,
            "seconds": round(self.seconds, 2),
            "msgs_per_s": round(self.messages / self.seconds, 2) if self.seconds else 0.0,
            "p50_ms": round(percentile(lat, 50), 1),
            "p95_ms": round(percentile(lat, 95), 1),
            "max_ms": round(lat[-1], 1) if lat else 0.0,
            "http_errors": self.http_errors,
            "empty_replies": self.empty_replies,
            "fallback_replies": self.fallback_replies,
        }


def percentile(sorted_values: Sequence[float], pct: float) -> float:
    if not sorted_values:
        return 0.0
    rank = (len(sorted_values) - 1) * pct / 100
    low = int(rank)
    high = min(low + 1, len(sorted_values) - 1)
    return sorted_values[low] + (sorted_values[high] - sorted_values[low]) * (rank - low)


def fallback_texts() -> set:
    domain = yaml.safe_load((PROJECT_ROOT / "domain.yml").read_text(encoding="utf-8"))
    return {variant.get("text") for variant in domain.get("responses", {}).get("utter_default", [])}


async def send(
    client: Any, url: str, sender: str, text: str, result: LoadResult, fallbacks: set
) -> Optional[List[Dict[str, Any]]]:
    started = time.perf_counter()
    try:
        response = await client.post(url, json={"sender": sender, "message": text})
        replies = response.json() if response.status_code == 200 else None
    except Exception:  # noqa: BLE001 — counted, the run goes on
        replies = None
    result.latencies_ms.append((time.perf_counter() - started) * 1000)
    result.messages += 1
    if replies is None:
        result.http_errors += 1
        return None
    if not replies:
        result.empty_replies += 1
    if any(reply.get("text") in fallbacks for reply in replies):
        result.fallback_replies += 1
    return replies


async def run_scripts_once(
    base_url: str, tag: str, scripts: Dict[str, List[str]]
) -> Tuple[Dict[str, List[List[str]]], LoadResult]:
    """Warm-up: every script once, one message at a time; returns the bot's replies per turn."""
    import httpx

    url = f"{base_url}/webhooks/rest/webhook"
    fallbacks = fallback_texts()
    result = LoadResult()
    transcripts: Dict[str, List[List[str]]] = {}
    async with httpx.AsyncClient(timeout=120) as client:
        started = time.perf_counter()
        for i, (script_name, messages) in enumerate(scripts.items()):
            turns = []
            for text in messages:
                replies = await send(client, url, f"warmup-{tag}-{i}", text, result, fallbacks)
                turns.append([render(reply) for reply in replies or []])
            transcripts[script_name] = turns
        result.seconds = time.perf_counter() - started
    return transcripts, result


def render(reply: Dict[str, Any]) -> str:
    text = reply.get("text") or ""
    buttons = reply.get("buttons") or []
    if buttons:
        text += " [" + " | ".join(str(b.get("payload")) for b in buttons) + "]"
    return text


async def run_load(base_url: str, tag: str, users: int, total_messages: int) -> LoadResult:
    """`users` simulated users, each sending its next message as soon as the previous reply is
    in, working through the scripts with a fresh sender id per check-in, until `total_messages`
    messages have been sent in all."""
    import httpx

    url = f"{base_url}/webhooks/rest/webhook"
    fallbacks = fallback_texts()
    result = LoadResult()
    script_list = list(SCRIPTS.values())
    remaining = [total_messages]

    async def user(index: int, client: Any) -> None:
        conversation = 0
        while True:
            script = script_list[(index + conversation) % len(script_list)]
            sender = f"load-{tag}-u{index}-c{conversation}"
            for text in script:
                if remaining[0] <= 0:
                    return
                remaining[0] -= 1
                await send(client, url, sender, text, result, fallbacks)
            conversation += 1

    limits = httpx.Limits(max_connections=users, max_keepalive_connections=users)
    async with httpx.AsyncClient(timeout=120, limits=limits) as client:
        started = time.perf_counter()
        await asyncio.gather(*(user(i, client) for i in range(users)))
        result.seconds = time.perf_counter() - started
    return result


@dataclass
class Server:
    name: str
    process: subprocess.Popen
    base_url: str
    figures: Dict[str, Any]


def start_rasa(
    name: str,
    model: Path,
    action_port: int,
    warmup_scripts: Dict[str, List[str]],
    workdir: Path,
    log_dir: Path,
) -> Server:
    """Start `rasa run` for one model; measure start-up, first reply and RSS after a warm-up."""
    endpoints = workdir / f"endpoints_{name}.yml"
    # No tracker_store / lock_store entries: Rasa then keeps both in memory.
    endpoints.write_text(
        yaml.safe_dump({"action_endpoint": {"url": f"http://127.0.0.1:{action_port}/webhook"}}),
        encoding="utf-8",
    )
    port = free_port()
    log_path = log_dir / f"rasa_run_{name}.log"
    base_url = f"http://127.0.0.1:{port}"
    process = start(
        [
            str(BIN / "rasa"),
            "run",
            "--model",
            str(model),
            "--interface",
            "127.0.0.1",
            "--port",
            str(port),
            "--credentials",
            "credentials.yml",
            "--endpoints",
            str(endpoints),
        ],
        log_path,
        child_env(),
    )
    try:
        load_before = load_average()
        startup_s = wait_until_up(base_url + "/", process, 300, log_path)
        rss_started = memory_mb(process.pid)
        transcripts, warmup = asyncio.run(run_scripts_once(base_url, name, warmup_scripts))
    except BaseException:
        stop(process)
        raise
    return Server(
        name,
        process,
        base_url,
        {
            "startup_s": round(startup_s, 2),
            "startup_load_average": load_before,
            "first_reply_ms": round(warmup.latencies_ms[0], 1) if warmup.latencies_ms else None,
            "rss_started_mb": round(rss_started, 1),
            "rss_warm_mb": round(memory_mb(process.pid), 1),
            "warmup": warmup.summary(),
            "transcripts": transcripts,
        },
    )


def measure_throughput(servers: List[Server], users: int, messages: int, rounds: int) -> None:
    """Load rounds alternating between the servers (A B, B A, A B …), all of them up at once.

    The machine may be shared: alternating rounds spread any background load over both
    configurations instead of penalising whichever happened to run during a busy minute.
    Reported: the median round's messages/s, latency percentiles over all rounds.
    """
    per_server: Dict[str, List[LoadResult]] = {server.name: [] for server in servers}
    for round_index in range(rounds):
        order = servers if round_index % 2 == 0 else list(reversed(servers))
        for server in order:
            before = load_average()
            result = asyncio.run(
                run_load(server.base_url, f"{server.name}-r{round_index}", users, messages)
            )
            per_server[server.name].append(result)
            print(
                f"  round {round_index + 1}/{rounds} {server.name:<5} {result.summary()['msgs_per_s']:6.1f} msg/s "
                f"(load average {before.split()[0]})",
                flush=True,
            )
    for server in servers:
        results = per_server[server.name]
        pooled = LoadResult()
        for r in results:
            pooled.messages += r.messages
            pooled.seconds += r.seconds
            pooled.latencies_ms += r.latencies_ms
            pooled.http_errors += r.http_errors
            pooled.empty_replies += r.empty_replies
            pooled.fallback_replies += r.fallback_replies
        load = pooled.summary()
        load["msgs_per_s"] = round(statistics.median(r.messages / r.seconds for r in results), 2)
        load["rounds_msgs_per_s"] = [round(r.messages / r.seconds, 2) for r in results]
        server.figures["load"] = load
        server.figures["rss_after_load_mb"] = round(memory_mb(server.process.pid), 1)
        server.figures["peak_rss_mb"] = round(memory_mb(server.process.pid, "VmHWM"), 1)


def transcript_agreement(serving: Dict[str, Dict[str, Any]]) -> Optional[Dict[str, Any]]:
    """Share of warm-up turns where both bots sent exactly the same replies (texts + buttons):
    the throughput comparison is only fair if both bots hold the same conversations."""
    if "ours" not in serving or "stock" not in serving:
        return None
    same = total = 0
    differing = []
    for script, turns in serving["ours"]["transcripts"].items():
        other = serving["stock"]["transcripts"].get(script, [])
        for i, replies in enumerate(turns):
            total += 1
            if i < len(other) and other[i] == replies:
                same += 1
            else:
                differing.append(
                    {
                        "script": script,
                        "turn": i + 1,
                        "user": SCRIPTS.get(script, [""] * (i + 1))[i],
                    }
                )
    return {"same": same, "total": total, "differing": differing}


# --------------------------------------------------------------------------------------------
# Report
# --------------------------------------------------------------------------------------------
def machine() -> Dict[str, Any]:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem_gb = 0.0
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem_gb = int(line.split()[1]) / 1024 / 1024
    except OSError:
        pass
    return {
        "nproc": os.cpu_count(),
        "cpu": cpu,
        "memory_gb": round(mem_gb, 1),
        "python": platform.python_version(),
    }


def versions() -> Dict[str, str]:
    from importlib.metadata import version

    out = {}
    # jsonschema: Rasa validates every action-server reply with it, and 4.x is much slower there.
    for package in ("rasa", "rasa-sdk", "spacy", "tensorflow", "scikit-learn", "jsonschema"):
        try:
            out[package] = version(package)
        except Exception:  # noqa: BLE001
            out[package] = "?"
    return out


def git_revision() -> str:
    try:
        rev = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=PROJECT_ROOT,
            capture_output=True,
            text=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain"], cwd=PROJECT_ROOT, capture_output=True, text=True
        ).stdout.strip()
        return rev + (" (working tree has uncommitted changes)" if dirty else "")
    except OSError:
        return "?"


def fmt(value: Optional[float], digits: int = 3) -> str:
    return "–" if value is None else f"{value:.{digits}f}"


def markdown(report: Dict[str, Any]) -> str:
    names = report["configs"]
    nlu = report.get("nlu") or {}
    serving = report.get("serving") or {}
    training = report.get("training") or {}
    args = report["args"]
    lines = [
        "# NLU pipeline benchmark",
        "",
        f"- Date: {report['date']}",
        f"- Machine: {report['machine']['nproc']} CPUs (nproc), {report['machine']['cpu']}, "
        f"{report['machine']['memory_gb']} GB RAM; load average at start {report['load_before']}, at end {report['load_after']}",
        f"- Software: Python {report['machine']['python']}, "
        + ", ".join(f"{k} {v}" for k, v in report["versions"].items()),
        f"- Code: git {report['git']}",
        f"- Command: `{report['command']}` (total {report['total_minutes']:.1f} min)",
    ]
    if args["quick"]:
        lines.append(
            "- **QUICK RUN** (fewer folds and messages, 10 epochs for DIET/TED): figures only check the script; do not quote them."
        )
    if args["without_risk_detector"]:
        lines.append("- RiskDetector left out of both pipelines (--without-risk-detector).")
    lines += [
        "",
        "| | "
        + " | ".join(LABELS[n] for n in names)
        + (" | ours vs stock |" if set(names) == {"ours", "stock"} else " |"),
        "|---|" + "---|" * len(names) + ("---|" if set(names) == {"ours", "stock"} else ""),
    ]

    def row(label: str, values: List[str], ratio: str = "") -> None:
        lines.append(
            f"| {label} | "
            + " | ".join(values)
            + (f" | {ratio} |" if set(names) == {"ours", "stock"} else " |")
        )

    def ratio(get: Any, fmt_: str = "{:.1f}×") -> str:
        try:
            return fmt_.format(get("ours") / get("stock"))
        except (KeyError, TypeError, ZeroDivisionError):
            return ""

    if nlu:
        k = nlu["folds"]
        row(
            f"intent macro-F1, {k}-fold CV (mean ± sd)",
            [f"{nlu[n]['cv_macro_f1_mean']:.3f} ± {nlu[n]['cv_macro_f1_sd']:.3f}" for n in names],
        )
        row(f"intent accuracy, {k}-fold CV", [f"{nlu[n]['cv_accuracy_mean']:.3f}" for n in names])
        row(
            "intent macro-F1, held-out 20 %",
            [f"**{nlu[n]['holdout']['macro_f1']:.3f}**" for n in names],
        )
        row(
            "intent accuracy, held-out 20 %",
            [f"{nlu[n]['holdout']['accuracy']:.3f}" for n in names],
        )
        row(
            "nlu_fallback on held-out",
            [f"{100 * nlu[n]['holdout']['fallback_rate']:.1f} %" for n in names],
        )
        if all("nlu_parse" in nlu[n] for n in names):
            row(
                "NLU alone: parse p50 / p95 (ms, in-process)",
                [
                    f"{nlu[n]['nlu_parse']['p50_ms']:.1f} / {nlu[n]['nlu_parse']['p95_ms']:.1f}"
                    for n in names
                ],
            )
            row(
                "NLU alone: messages / s (one at a time)",
                [f"{nlu[n]['nlu_parse']['msgs_per_s']:.0f}" for n in names],
                ratio(lambda n: nlu[n]["nlu_parse"]["msgs_per_s"]),
            )
    if training:
        row(
            "full `rasa train` (s)",
            [f"{training[n]:.0f}" for n in names],
            ratio(lambda n: training[n], "{:.2f}×"),
        )
    if serving:
        row(
            "start-up until GET / answers (s)",
            [f"{serving[n]['startup_s']:.1f}" for n in names],
            ratio(lambda n: serving[n]["startup_s"], "{:.2f}×"),
        )
        row(
            "first reply after start-up (ms)",
            [f"{serving[n]['first_reply_ms']:.0f}" for n in names],
        )
        row(
            "RSS of `rasa run` after warm-up (MB)",
            [f"{serving[n]['rss_warm_mb']:.0f}" for n in names],
            ratio(lambda n: serving[n]["rss_warm_mb"], "{:.2f}×"),
        )
        row("peak RSS (MB)", [f"{serving[n]['peak_rss_mb']:.0f}" for n in names])
        users, total, rounds = args["users"], args["messages"], args["rounds"]
        row(
            f"**messages / s** ({users} users, {total} messages, median of {rounds} rounds)",
            [f"**{serving[n]['load']['msgs_per_s']:.1f}**" for n in names],
            ratio(lambda n: serving[n]["load"]["msgs_per_s"]),
        )
        row(
            "latency p50 / p95 (ms)",
            [
                f"{serving[n]['load']['p50_ms']:.0f} / {serving[n]['load']['p95_ms']:.0f}"
                for n in names
            ],
        )
        row(
            "msg/s in each round (A B, B A, A B …)",
            [
                " / ".join(f"{v:.1f}" for v in serving[n]["load"]["rounds_msgs_per_s"])
                for n in names
            ],
        )
        row(
            "HTTP errors / empty / fallback replies",
            [
                f"{serving[n]['load']['http_errors']} / {serving[n]['load']['empty_replies']} / {serving[n]['load']['fallback_replies']}"
                for n in names
            ],
        )
    lines.append("")
    agreement = report.get("agreement")
    if agreement:
        lines.append(
            f"Both bots sent identical replies in {agreement['same']} of {agreement['total']} warm-up turns "
            f"(the scripted check-ins, run once each before the load)."
        )
        if agreement["differing"]:
            lines.append(
                "Turns that differ: "
                + "; ".join(
                    f'{d["script"]} turn {d["turn"]} ("{d["user"]}")'
                    for d in agreement["differing"][:8]
                )
                + "."
            )
        lines.append("")
    if nlu:
        lines += [
            "How to read it: macro-F1 is averaged over the data's intents, every example counted; an",
            "`nlu_fallback` answer is a miss, and the RiskDetector's override counts as the pipeline's answer.",
            f"Folds: sklearn StratifiedKFold(shuffle, random_state={SEED}); hold-out: train_test_split(test_size=0.2,",
            f"stratify=intent, random_state={SEED}); the same splits for both configurations. {nlu['examples']} examples, {nlu['intents']} intents.",
            "Messages/s: concurrent users each send their next message as soon as the previous reply is in,",
            "over scripted check-ins (buttons and free text, interruptions, skip, stop/resume), through the REST",
            "channel, with the action server running and the tracker store in memory. Both servers stay up and",
            "the load rounds alternate between them, so background load on a shared machine hits both alike.",
            "NLU alone: the hold-out models parsing the hold-out texts in-process, nothing else training.",
            "",
        ]
        for n in names:
            sweep = nlu[n]["fallback_sweep"]
            lines += [
                f"FallbackClassifier thresholds, {LABELS[n]} (same models; CV figure pools the folds):",
                "",
                "| threshold | ambiguity | CV macro-F1 | held-out macro-F1 | held-out fallback |",
                "|---|---|---|---|---|",
            ]
            for s in sweep:
                lines.append(
                    f"| {s['threshold']} | {s['ambiguity_threshold']} | {s['cv_pooled_macro_f1']:.3f} | {s['holdout_macro_f1']:.3f} | {100 * s['holdout_fallback_rate']:.1f} % |"
                )
            lines.append("")
        for n in names:
            check = nlu[n]["sweep_check"]
            if check["mismatches"]:
                examples_ = "; ".join(
                    f'"{m["text"]}" → {m["pred"]} ({m["pred_confidence"]})'
                    for m in check["mismatches"][:5]
                )
                lines += [
                    f"{LABELS[n]}: in {len(check['mismatches'])} of {check['messages']} test messages (CV + hold-out) the pipeline "
                    f"answered with an intent below its own fallback threshold ({check['threshold']}): the classifier said "
                    "risk_disclosure, the detector did not, and the RiskDetector passed on the next-ranked intent "
                    f"without a fallback check. The sweep above treats these as fallbacks. E.g. {examples_}.",
                    "",
                ]
        for n in names:
            low = sorted(nlu[n]["holdout_per_intent_f1"].items(), key=lambda kv: kv[1])[:5]
            lines.append(
                f"Weakest intents on the hold-out, {LABELS[n]}: "
                + ", ".join(f"{k} {v:.2f}" for k, v in low)
                + "."
            )
        lines.append("")
    lines.append(
        "Details (per fold, per intent, misclassified examples, transcripts): benchmarks/results/latest.json; logs in benchmarks/results/logs/."
    )
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------------------------
# Main
# --------------------------------------------------------------------------------------------
def parse_args(argv: Optional[List[str]]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="2 folds, 10 epochs, 80 messages: checks the script runs",
    )
    parser.add_argument(
        "--folds",
        type=int,
        help="cross-validation folds (default 3, see the module doc; 2 with --quick)",
    )
    parser.add_argument(
        "--users", type=int, help="concurrent simulated users (default 8; 4 with --quick)"
    )
    parser.add_argument(
        "--messages", type=int, help="messages in the measured load (default 400; 80 with --quick)"
    )
    parser.add_argument(
        "--rounds",
        type=int,
        help="load rounds per configuration, alternating (default 3; 2 with --quick)",
    )
    parser.add_argument(
        "--jobs", type=int, default=2, help="NLU trainings run side by side (default 2)"
    )
    parser.add_argument(
        "--configs", default="ours,stock", help="comma-separated subset of: " + ", ".join(CONFIGS)
    )
    parser.add_argument("--skip-nlu", action="store_true", help="no cross-validation / hold-out")
    parser.add_argument(
        "--skip-serving",
        action="store_true",
        help="no full training, start-up, memory or throughput",
    )
    parser.add_argument(
        "--without-risk-detector",
        action="store_true",
        help="leave the RiskDetector out (only while bot.safety is unavailable; it does not train)",
    )
    parser.add_argument(
        "--keep", action="store_true", help="keep the temporary directory (models, fold data)"
    )
    args = parser.parse_args(argv)
    args.folds = args.folds or (2 if args.quick else DEFAULT_FOLDS)
    args.users = args.users or (4 if args.quick else 8)
    args.messages = args.messages or (80 if args.quick else 400)
    args.rounds = args.rounds or (2 if args.quick else 3)
    names = [n.strip() for n in args.configs.split(",") if n.strip()]
    unknown = [n for n in names if n not in CONFIGS]
    if unknown:
        parser.error(f"unknown configuration(s): {', '.join(unknown)}")
    args.names = names
    return args


def load_average() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "?"


def preflight(args: argparse.Namespace) -> Optional[str]:
    """Fail in seconds, not after 20 minutes of training, when a dependency is broken."""
    if (
        not (PROJECT_ROOT / "models" / "spacy" / "en_blank" / "meta.json").exists()
        and "ours" in args.names
    ):
        return "models/spacy/en_blank is missing: run `.venv/bin/scrollcheck build-spacy` first."
    try:
        if not args.without_risk_detector:
            from bot.safety import detect  # the RiskDetector's detector

            detect("i'm fine thanks", "en")
        if not args.skip_serving:
            import importlib
            import pkgutil

            import actions

            for module in pkgutil.iter_modules(actions.__path__):
                importlib.import_module(f"actions.{module.name}")
    except Exception as exc:  # noqa: BLE001 — reported, nothing started yet
        return (
            f"Pre-flight check failed: {type(exc).__name__}: {exc}\n"
            "The RiskDetector needs bot.safety and the action server needs actions/. "
            "For the NLU part alone: --without-risk-detector --skip-serving."
        )
    return None


def main(argv: Optional[List[str]] = None) -> int:
    args = parse_args(argv)
    os.chdir(PROJECT_ROOT)
    os.environ.update(BENCH_ENV)
    invoked = " ".join(shlex.quote(a) for a in (sys.argv[1:] if argv is None else argv))
    command = f".venv/bin/python benchmarks/nlu_pipelines.py {invoked}".strip()
    problem = preflight(args)
    if problem:
        print(problem, file=sys.stderr)
        return 2
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    log_dir = RESULTS_DIR / "logs"
    log_dir.mkdir(exist_ok=True)
    started = time.perf_counter()
    report: Dict[str, Any] = {
        "date": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": machine(),
        "versions": versions(),
        "git": git_revision(),
        "command": command,
        "configs": args.names,
        "args": {k: v for k, v in vars(args).items() if k != "names"},
        "load_before": load_average(),
    }
    workdir = Path(tempfile.mkdtemp(prefix="scrollcheck-bench-"))
    action_server: Optional[subprocess.Popen] = None
    servers: List[Server] = []
    try:
        configs = effective_configs(workdir, args.names, args.quick, args.without_risk_detector)
        if not args.skip_nlu:
            report["nlu"] = run_nlu_evaluation(configs, args.folds, args.jobs, workdir, log_dir)
        if not args.skip_serving:
            report["training"] = {}
            models = {}
            for name in args.names:
                print(f"Training the full model: {name} …", flush=True)
                models[name], seconds = train_full_model(
                    name, configs[name], workdir / "models", log_dir / f"train_{name}.log"
                )
                report["training"][name] = round(seconds, 1)
                print(f"  {name}: {seconds:.0f} s", flush=True)
            action_server, action_port = start_action_server(workdir, log_dir)
            warmup_scripts = dict(list(SCRIPTS.items())[:1]) if args.quick else SCRIPTS
            for name in args.names:
                print(f"Starting rasa run for {name}: start-up, warm-up …", flush=True)
                servers.append(
                    start_rasa(name, models[name], action_port, warmup_scripts, workdir, log_dir)
                )
                print(f"  {name}: up in {servers[-1].figures['startup_s']} s", flush=True)
            print(
                f"Throughput: {args.rounds} rounds × {args.messages} messages from {args.users} users per configuration …",
                flush=True,
            )
            measure_throughput(servers, args.users, args.messages, args.rounds)
            report["serving"] = {server.name: server.figures for server in servers}
            report["agreement"] = transcript_agreement(report["serving"])
    finally:
        for server in servers:
            stop(server.process)
        if action_server is not None:
            stop(action_server)
        if not args.keep:
            import shutil

            shutil.rmtree(workdir, ignore_errors=True)
        else:
            print(f"Kept {workdir}")
    report["load_after"] = load_average()
    report["total_minutes"] = (time.perf_counter() - started) / 60
    text = markdown(report)
    print("\n" + text)
    (RESULTS_DIR / "latest.md").write_text(text, encoding="utf-8")
    (RESULTS_DIR / "latest.json").write_text(
        json.dumps(report, indent=2, ensure_ascii=False, default=str), encoding="utf-8"
    )
    print(
        f"Written: {RESULTS_DIR / 'latest.md'} and latest.json ({report['total_minutes']:.1f} min)"
    )
    if report["total_minutes"] > 25:
        print(
            "Note: the run took more than 25 minutes (see the load average in the report: other work on the "
            "machine slows DIET training); --folds 2 or --configs ours shorten it.",
            file=sys.stderr,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
