"""The trained half of the detector: an n-gram model that decides level and category by itself.

Why a model beside the lexicon: on messages written by people who never saw the lexicon, the
lexicon alone catches about seven risk messages in ten, and another round of patterns moved that
by one point. Character n-grams generalise over typos, algospeak, emoji and Dutch/English mixing,
and breadth of labelled data is what moves them (docs/safety.md has the measurements, including
why static word embeddings lost to them here).

The model (one for every language together: young people switch language mid-sentence, and
short messages defeat language identification):
  features  TF-IDF of character n-grams (2-5, inside word boundaries) and word uni/bigrams
  category  multinomial logistic regression over none + CATEGORIES  -> p(risk) = 1 - p(none)
  urgency   binary logistic regression on the risk messages only     -> p(urgent | risk)
  levels    p(risk) >= concern threshold -> concern; >= check threshold -> check;
            a concern with p(urgent) >= urgent threshold -> urgent, and any flagged message
            with p(urgent) >= the higher urgent_alone threshold -> urgent (level_for)
The thresholds are chosen by cross-validation (bot.safety.training) and stored in the artefact.

Scoring one message reuses the fitted vectorizers' analyzers, vocabularies and idf weights and
two small matrix products, not scikit-learn's pipeline (about a millisecond of overhead per call),
so it costs well under a millisecond.

The artefact (models/risk/model.pkl) is built by `scrollcheck train-risk` (run by make when its
inputs change), deterministically: fixed seed, lbfgs, data sorted by text. It records a hash of
its inputs; a missing artefact is built on first use, a stale one is used with a warning (see
load_model; `make` rebuilds it whenever its inputs change).
"""

from __future__ import annotations

import hashlib
import logging
import os
import pickle
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Tuple

import numpy as np

from bot import DATA_DIR, PROJECT_ROOT
from bot.content.yamlsource import ContentError, LineDict, line_of, load_yaml_with_lines
from bot.safety.result import NO_RISK, RiskResult

logger = logging.getLogger(__name__)

CONFIG_PATH = DATA_DIR / "safety" / "classifier.yml"
NONE_CLASS = "none"
RISK_INTENT = "risk_disclosure"
MODEL_ID_PREFIX = "model."  # RiskResult.matched id of a model signal, e.g. "model.self_harm"
FORMAT_VERSION = 2  # bump when the artefact's layout or the features change
_ANNOTATION = re.compile(r"\[([^\]]*)\](?:\([^)]*\)|\{[^}]*\})")
_QUOTES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u02bc": "'", "\u201c": '"', "\u201d": '"'})


def prepare(text: str) -> str:
    """What both training and scoring see: lower case, straight quotes, single spaces."""
    return " ".join(text.translate(_QUOTES).lower().split())


# -- settings ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Policy:
    """How cross-validation picks the thresholds (data/safety/classifier.yml `policy`)."""

    max_benign_crisis: float  # benign labelled messages given a crisis reply (concern or above)
    max_benign_check: float  # benign labelled messages asked the direct check (check or above)
    max_everyday: float  # NLU examples and screening answers flagged at any level
    max_concern_called_urgent: float  # concern-labelled risk messages given the emergency path


@dataclass(frozen=True)
class ModelConfig:
    seed: int
    c: float
    folds: int
    training: Tuple[Path, ...]  # JSON-lines files (text, level, category, lang, context?)
    nlu_negatives: Tuple[Path, ...]  # Rasa NLU files: every intent but risk_disclosure is "none"
    artefact: Path
    policy: Policy
    path: Path


def _number(node: LineDict, key: str, path: Path, low: float, high: float) -> float:
    value = node.get(key)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not low <= value <= high:
        raise ContentError(
            path,
            node.line_of(key) if key in node else node.line,
            f"`{key}` must be a number from {low} to {high}, got {value!r}",
        )
    return float(value)


def _paths(node: LineDict, key: str, path: Path, suffixes: Tuple[str, ...]) -> Tuple[Path, ...]:
    """Files named (or found in the folders named) under `key`, sorted, from the project root."""
    listed = node.get(key)
    if not isinstance(listed, list) or not listed or not all(isinstance(p, str) for p in listed):
        raise ContentError(
            path,
            node.line_of(key) if key in node else node.line,
            f"`{key}` must list files or folders (paths from the project root)",
        )
    found: List[Path] = []
    for index, name in enumerate(listed):
        target = PROJECT_ROOT / name
        if "blind" in Path(name).name:
            # A blind set measures what nobody trained on; training on it would hide every miss.
            raise ContentError(
                path,
                line_of(listed, index, node.line_of(key)),
                f"{name} is a blind evaluation set and must not be trained on",
            )
        if target.is_dir():
            files = sorted(p for p in target.rglob("*") if p.suffix in suffixes)
        elif target.is_file():
            files = [target]
        else:
            raise ContentError(
                path, line_of(listed, index, node.line_of(key)), f"{name!r} does not exist"
            )
        for file in files:
            if "blind" in file.name or (PROJECT_ROOT / "tests") in file.parents:
                raise ContentError(
                    path,
                    line_of(listed, index, node.line_of(key)),
                    f"{file.relative_to(PROJECT_ROOT)} is evaluation data (tests/) and must not be trained on",
                )
        found.extend(files)
    return tuple(found)


def read_config(path: Optional[Path] = None) -> ModelConfig:
    """The model settings; raises ContentError naming file and line."""
    path = Path(path or CONFIG_PATH)
    root = load_yaml_with_lines(path)
    if not isinstance(root, LineDict) or not isinstance(root.get("model"), LineDict):
        raise ContentError(path, getattr(root, "line", 1), "expected a mapping with `model:`")
    node = root["model"]
    seed = node.get("seed", 42)
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise ContentError(path, node.line_of("seed"), "`seed` must be a whole number")
    policy = node.get("policy")
    if not isinstance(policy, LineDict):
        raise ContentError(
            path,
            node.line_of("policy") if "policy" in node else node.line,
            "`policy` must be a mapping",
        )
    artefact = node.get("artefact")
    if not isinstance(artefact, str) or not artefact.startswith("models/"):
        raise ContentError(
            path,
            node.line_of("artefact") if "artefact" in node else node.line,
            "`artefact` must be a path under models/",
        )
    return ModelConfig(
        seed=seed,
        c=_number(node, "C", path, 0.01, 1000.0),
        folds=int(_number(node, "folds", path, 2, 20)),
        training=_paths(node, "training", path, (".jsonl",)),
        nlu_negatives=_paths(node, "nlu_negatives", path, (".yml", ".yaml")),
        artefact=PROJECT_ROOT / artefact,
        policy=Policy(
            max_benign_crisis=_number(policy, "max_benign_crisis", path, 0.0, 0.5),
            max_benign_check=_number(policy, "max_benign_check", path, 0.0, 0.5),
            max_everyday=_number(policy, "max_everyday", path, 0.0, 0.5),
            max_concern_called_urgent=_number(policy, "max_concern_called_urgent", path, 0.0, 1.0),
        ),
        path=path,
    )


def validate_config(path: Optional[Path] = None) -> List[ContentError]:
    """Every problem in classifier.yml (empty when all is well), for `scrollcheck validate`."""
    try:
        config = read_config(path)
    except ContentError as error:
        return [error]
    try:
        for file in config.training:
            from bot.safety.evaluation import load_labelled

            load_labelled(file)
    except ContentError as error:
        return [error]
    return []


def inputs_digest(config: ModelConfig) -> str:
    """A hash of everything the artefact is trained from; a change means a rebuild."""
    digest = hashlib.sha256(f"format {FORMAT_VERSION}\n".encode())
    code = (Path(__file__), Path(__file__).with_name("training.py"))  # how it is trained counts too
    for file in (config.path, *code, *config.training, *config.nlu_negatives):
        digest.update(str(file.relative_to(PROJECT_ROOT)).encode() + b"\0")
        digest.update(file.read_bytes())
    return digest.hexdigest()


# -- training data -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Example:
    text: str  # prepared (prepare()), context joined in front when there is any
    category: str  # NONE_CLASS or one of CATEGORIES
    urgent: bool
    source: str  # "labelled" | "everyday" (NLU examples and screening answers)
    lang: str = "en"


def join_context(context: Sequence[str], text: str) -> str:
    """How a message is read with its context: the earlier messages first, one " | " apart."""
    return " | ".join([*context, text])


def labelled_examples(files: Sequence[Path]) -> List[Example]:
    from bot.safety.evaluation import load_labelled  # checks every line, errors name file:line

    out = []
    for file in files:
        for m in load_labelled(file):
            text = join_context(m.context, m.text) if m.context else m.text
            out.append(
                Example(
                    prepare(text), m.category or NONE_CLASS, m.level == "urgent", "labelled", m.lang
                )
            )
    return out


def nlu_negative_examples(files: Sequence[Path]) -> List[Example]:
    """Every NLU example of an intent other than risk_disclosure: the check-in's everyday
    answers ("often tbh", "skip", "delete my data") must never look like risk."""
    import yaml

    out = []
    for file in files:
        data = yaml.safe_load(file.read_text(encoding="utf-8")) or {}
        for block in data.get("nlu", []) or []:
            intent = block.get("intent") if isinstance(block, dict) else None
            if not intent or intent == RISK_INTENT:
                continue
            for line in str(block.get("examples", "")).splitlines():
                line = line.strip()
                if line.startswith("- "):
                    text = prepare(_ANNOTATION.sub(r"\1", line[2:]).strip())
                    if text:
                        out.append(Example(text, NONE_CLASS, False, "everyday"))
    return out


def training_examples(config: ModelConfig) -> List[Example]:
    """One example per text (a labelled risk line wins over a benign one), sorted by text."""
    by_text: Dict[str, Example] = {}
    for example in labelled_examples(config.training) + nlu_negative_examples(config.nlu_negatives):
        known = by_text.get(example.text)
        if example.text and (
            known is None
            or (known.category == NONE_CLASS and example.category != NONE_CLASS)
            or (known.category == example.category and example.urgent and not known.urgent)
        ):
            by_text[example.text] = example
    return [by_text[t] for t in sorted(by_text)]


# -- the model -----------------------------------------------------------------------------------


@dataclass
class _Block:
    """One fitted TfidfVectorizer, reduced to what scoring needs."""

    kind: str  # "char" | "word": how to rebuild the analyzer (analyzers do not pickle)
    vocabulary: Dict[str, int]
    idf: np.ndarray
    offset: int
    analyzer: object = field(default=None, repr=False)


def _vectorizers():
    from sklearn.feature_extraction.text import TfidfVectorizer

    return {
        "char": TfidfVectorizer(
            analyzer="char_wb",
            ngram_range=(2, 5),
            min_df=2,
            sublinear_tf=True,
            lowercase=False,
            dtype=np.float32,
        ),
        "word": TfidfVectorizer(
            analyzer="word",
            ngram_range=(1, 2),
            min_df=1,
            sublinear_tf=True,
            lowercase=False,
            token_pattern=r"(?u)\b\w+\b|[^\w\s|]",
            dtype=np.float32,
        ),
    }


@dataclass(frozen=True)
class Thresholds:
    check: float  # p(risk) for the direct check question
    concern: float  # p(risk) for a crisis reply
    urgent: float  # p(urgent | risk) that makes a crisis reply urgent
    urgent_alone: float = 1.0  # p(urgent | risk) that makes any flagged message urgent


def level_for(t: Thresholds, p_risk: float, p_urgent: float) -> str:
    """The level the model's two probabilities imply. A message the urgency model is very sure
    about gets the emergency path even when the category model is less sure that it is risk:
    cross-validation showed urgent messages are the ones it most often under-rates."""
    if p_risk >= t.check and p_urgent >= t.urgent_alone:
        return "urgent"
    if p_risk >= t.concern:
        return "urgent" if p_urgent >= t.urgent else "concern"
    if p_risk >= t.check:
        return "check"
    return "none"


class RiskModel:
    """p(category), p(urgent | risk), and the level they imply under the chosen thresholds."""

    def __init__(
        self,
        blocks: List[_Block],
        coef: np.ndarray,
        intercept: np.ndarray,
        classes: Sequence[str],
        urgent_coef: np.ndarray,
        urgent_intercept: float,
        thresholds: Thresholds,
        digest: str = "",
        report: Optional[dict] = None,
    ) -> None:
        self._blocks = blocks
        self._coef = coef
        self._intercept = intercept
        self.classes = tuple(classes)
        self._none = self.classes.index(NONE_CLASS)
        self._urgent_coef = urgent_coef
        self._urgent_intercept = urgent_intercept
        self.thresholds = thresholds
        self.digest = digest
        self.report = report or {}
        self._attach_analyzers()

    def _attach_analyzers(self) -> None:
        fresh = _vectorizers()
        for block in self._blocks:
            block.analyzer = fresh[block.kind].build_analyzer()

    def __getstate__(self) -> dict:
        state = dict(self.__dict__)
        state["_blocks"] = [_Block(b.kind, b.vocabulary, b.idf, b.offset) for b in self._blocks]
        return state

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        self._attach_analyzers()

    def _features(self, prepared: str) -> Tuple[np.ndarray, np.ndarray]:
        columns: List[np.ndarray] = []
        values: List[np.ndarray] = []
        for block in self._blocks:
            vocabulary = block.vocabulary
            counts = Counter(g for g in block.analyzer(prepared) if g in vocabulary)  # type: ignore[operator]
            if not counts:
                continue
            index = np.fromiter((vocabulary[g] for g in counts), dtype=np.intp, count=len(counts))
            # TfidfVectorizer(sublinear_tf=True, norm="l2"): (1 + ln tf) * idf, unit length per block
            weights = (
                1.0 + np.log(np.fromiter(counts.values(), dtype=float, count=len(counts)))
            ) * block.idf[index]
            columns.append(index + block.offset)
            values.append(weights / np.sqrt(weights @ weights))
        if not columns:
            return np.zeros(0, dtype=np.intp), np.zeros(0)
        return np.concatenate(columns), np.concatenate(values)

    def scores(self, text: str) -> Tuple[float, Optional[str], float]:
        """(p(risk), most likely risk category, p(urgent | risk)) for raw or prepared text."""
        index, values = self._features(prepare(text))
        logits = self._intercept + (self._coef[:, index] @ values if len(index) else 0.0)
        logits = logits - logits.max()
        p = np.exp(logits)
        p /= p.sum()
        p_risk = 1.0 - float(p[self._none])
        ranked = [(float(q), c) for c, q in zip(self.classes, p) if c != NONE_CLASS]
        category = max(ranked)[1] if ranked else None
        z = self._urgent_intercept + (
            float(self._urgent_coef[index] @ values) if len(index) else 0.0
        )
        p_urgent = 1.0 / (1.0 + np.exp(-z))
        return p_risk, category, float(p_urgent)

    def level_of(self, p_risk: float, p_urgent: float) -> str:
        return level_for(self.thresholds, p_risk, p_urgent)

    def classify(self, text: str) -> RiskResult:
        p_risk, category, p_urgent = self.scores(text)
        level = self.level_of(p_risk, p_urgent)
        if level == "none" or category is None:
            return NO_RISK
        matched = (f"{MODEL_ID_PREFIX}{category}",) + (
            (f"{MODEL_ID_PREFIX}urgent",) if level == "urgent" else ()
        )
        return RiskResult(level, category, matched)


def fit_sklearn(
    examples: Sequence[Example], c: float, seed: int
) -> Tuple[Dict[str, Any], Any, Any]:
    """The fitted scikit-learn parts: ({kind: vectorizer}, category model, urgency model)."""
    from scipy.sparse import hstack
    from sklearn.linear_model import LogisticRegression

    texts = [e.text for e in examples]
    vectorizers = _vectorizers()
    x = hstack([vectorizer.fit_transform(texts) for vectorizer in vectorizers.values()]).tocsr()
    category = LogisticRegression(C=c, max_iter=3000, class_weight="balanced", random_state=seed)
    category.fit(x, [e.category for e in examples])
    risky = np.array([e.category != NONE_CLASS for e in examples])
    urgency = LogisticRegression(C=c, max_iter=3000, class_weight="balanced", random_state=seed)
    urgency.fit(x[risky], np.array([e.urgent for e in examples])[risky])
    return vectorizers, category, urgency


def fit(
    examples: Sequence[Example], c: float, seed: int, thresholds: Thresholds, digest: str = ""
) -> RiskModel:
    """Train on `examples` (deterministic: the caller passes them sorted)."""
    vectorizers, category, urgency = fit_sklearn(examples, c, seed)
    blocks, offset = [], 0
    for kind, vectorizer in vectorizers.items():
        blocks.append(
            _Block(kind, dict(vectorizer.vocabulary_), vectorizer.idf_.astype(np.float64), offset)
        )
        offset += len(vectorizer.vocabulary_)
    return RiskModel(
        blocks,
        category.coef_.astype(np.float64),
        category.intercept_.astype(np.float64),
        list(category.classes_),
        urgency.coef_[0].astype(np.float64),
        float(urgency.intercept_[0]),
        thresholds,
        digest,
    )


# -- the artefact ------------------------------------------------------------------------------


def save_model(model: RiskModel, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(f".tmp{os.getpid()}")
    with open(temporary, "wb") as out:
        pickle.dump({"format": FORMAT_VERSION, "model": model}, out, protocol=4)
    os.replace(temporary, path)  # atomic: a reader never sees half a file


def read_artefact(path: Path) -> Optional[RiskModel]:
    """The model stored at `path`, or None if there is none or it is of another format."""
    try:
        with open(path, "rb") as source:
            stored = pickle.load(source)  # our own artefact, written by save_model
    except (OSError, EOFError, pickle.UnpicklingError, AttributeError, ImportError):
        return None
    if (
        not isinstance(stored, dict)
        or stored.get("format") != FORMAT_VERSION
        or not isinstance(stored.get("model"), RiskModel)
    ):
        return None
    return stored["model"]


def load_model(config: Optional[ModelConfig] = None) -> RiskModel:
    """The trained model. A missing or unreadable artefact is trained (cross-validation included)
    and saved, once, so that a process never runs without it. A stale one (its inputs changed) is
    used as it is, with a warning: rebuilding is make's job (`make train-risk`), not every
    process's, and an older model is far better than none while it happens."""
    config = config or read_config()
    model = read_artefact(config.artefact)
    if model is not None:
        if model.digest != inputs_digest(config):
            logger.warning(
                "risk model %s is out of date with its training data; run `make train-risk`",
                config.artefact.name,
            )
        return model
    logger.warning(
        "risk model %s is missing; training it now (make does this ahead of time)",
        config.artefact.name,
    )
    from bot.safety.training import train

    return train(config)
