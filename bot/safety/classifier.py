"""The detector's second opinion: a small n-gram classifier for risk phrased in ways the lexicon
has never seen.

Why: on blind sets (written by someone who never saw the lexicon) the lexicon alone catches
roughly seven risk messages in ten; the misses are vivid, concrete messages with none of its words
("standing on the roof of the multi storey. this is it"). A character + word n-gram logistic
regression trained on the labelled sets catches many of those, and its threshold is set high so
it adds few false alarms (docs/safety.md has the figures and how the threshold was chosen).

How it is used (bot.safety.detector): only when the lexicon finds nothing. A probability of risk
at or above `threshold` makes the message a `concern` in the category the classifier finds most
likely; the lexicon alone decides `urgent`. A concern about self-harm asks the ASQ acuity question,
so an urgent message the classifier caught still reaches the emergency path on a "yes".

Training is deterministic (fixed seed, lbfgs, data sorted by text) and offline: it reads
the files named in data/safety/classifier.yml when the detector is built (about a second), and
nothing is downloaded or cached. Scoring one message does not go through scikit-learn's
pipeline machinery (about a millisecond of overhead per call): it reuses the fitted vectorizers'
own analyzers, vocabularies and idf weights and one small matrix product, so it costs ~0.2 ms.
"""
from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np

from bot import DATA_DIR, PROJECT_ROOT
from bot.content.yamlsource import ContentError, LineDict, load_yaml_with_lines
from bot.safety.result import CATEGORIES

CONFIG_PATH = DATA_DIR / "safety" / "classifier.yml"
NONE_CLASS = "none"
RISK_INTENT = "risk_disclosure"
# The NLU annotation syntax "[text](entity)" and "[text]{...}": keep the text.
_ANNOTATION = re.compile(r"\[([^\]]*)\](?:\([^)]*\)|\{[^}]*\})")
_QUOTES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u02bc": "'", "\u201c": '"', "\u201d": '"'})


def prepare(text: str) -> str:
    """What both training and scoring see: lower case, straight quotes, single spaces."""
    return " ".join(text.translate(_QUOTES).lower().split())


@dataclass(frozen=True)
class ClassifierConfig:
    language: str
    enabled: bool
    threshold: float
    c: float
    seed: int
    labelled: Tuple[Path, ...]  # JSON lines: text, level, category
    nlu_negatives: Optional[Path]  # Rasa NLU YAML: every intent but risk_disclosure is "none"
    path: Path


def _number(node: LineDict, key: str, path: Path, low: float, high: float) -> float:
    value = node.get(key)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not low <= value <= high:
        raise ContentError(path, node.line_of(key), f"`{key}` must be a number from {low} to {high}, got {value!r}")
    return float(value)


def read_config(language: str, path: Optional[Path] = None) -> Optional[ClassifierConfig]:
    """The classifier settings for `language`, or None when the file has no section for it."""
    path = Path(path or CONFIG_PATH)
    if not path.exists():
        return None
    root = load_yaml_with_lines(path)
    if not isinstance(root, LineDict) or not isinstance(root.get("languages"), LineDict):
        raise ContentError(path, getattr(root, "line", 1), "expected a mapping with `languages:`")
    node = root["languages"].get(language)
    if node is None:
        return None
    if not isinstance(node, LineDict):
        raise ContentError(path, root["languages"].line_of(language), f"`{language}` must be a mapping")
    enabled = node.get("enabled", True)
    if not isinstance(enabled, bool):
        raise ContentError(path, node.line_of("enabled"), "`enabled` must be true or false")
    seed = node.get("seed", 42)
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise ContentError(path, node.line_of("seed"), "`seed` must be a whole number")
    labelled = node.get("labelled")
    if not isinstance(labelled, list) or not labelled or not all(isinstance(p, str) for p in labelled):
        raise ContentError(path, node.line_of("labelled"), "`labelled` must list JSON-lines files (paths from the project root)")
    files = []
    for index, name in enumerate(labelled):
        file = PROJECT_ROOT / name
        if not file.is_file():
            raise ContentError(path, labelled.line_of(index), f"labelled file {name!r} does not exist")
        files.append(file)
    negatives = node.get("nlu_negatives")
    if negatives is not None and (not isinstance(negatives, str) or not (PROJECT_ROOT / negatives).exists()):
        raise ContentError(path, node.line_of("nlu_negatives"), f"`nlu_negatives` must name an existing NLU file or folder, got {negatives!r}")
    return ClassifierConfig(
        language=language,
        enabled=enabled,
        threshold=_number(node, "threshold", path, 0.5, 1.0),
        c=_number(node, "C", path, 0.01, 1000.0),
        seed=seed,
        labelled=tuple(files),
        nlu_negatives=PROJECT_ROOT / negatives if negatives else None,
        path=path,
    )


def validate_config(path: Optional[Path] = None) -> List[ContentError]:
    """Every problem in classifier.yml (empty when all is well), for `scrollcheck validate`."""
    path = Path(path or CONFIG_PATH)
    try:
        root = load_yaml_with_lines(path)
    except ContentError as error:
        return [error]
    languages = root.get("languages") if isinstance(root, LineDict) else None
    if not isinstance(languages, LineDict):
        return [ContentError(path, getattr(root, "line", 1), "expected a mapping with `languages:`")]
    errors: List[ContentError] = []
    for language in languages:
        try:
            config = read_config(language, path)
        except ContentError as error:
            errors.append(error)
            continue
        for index, file in enumerate(config.labelled if config else ()):
            # A blind set measures what nobody trained on; training on it would hide every miss.
            if "blind" in file.name:
                line = languages[language].get("labelled").line_of(index)
                errors.append(ContentError(path, line, f"{file.name} is a blind evaluation set and must not be trained on"))
    return errors


# -- training data -----------------------------------------------------------------------------

def labelled_examples(files: Sequence[Path]) -> List[Tuple[str, str]]:
    """(text, class) from the labelled sets: the category for a risk message, else "none"."""
    from bot.safety.evaluation import load_labelled  # checks every line, errors name file:line

    return [(m.text, m.category or NONE_CLASS) for file in files for m in load_labelled(file)]


def nlu_negative_examples(location: Path) -> List[Tuple[str, str]]:
    """Every NLU example of an intent other than risk_disclosure, as "none".

    The check-in's everyday answers ("often tbh", "skip", "delete my data") must never look like
    risk; the risk_disclosure examples are left out because they carry no category.
    """
    import yaml

    files = sorted(location.rglob("*.yml")) if location.is_dir() else [location]
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
                    out.append((_ANNOTATION.sub(r"\1", line[2:]).strip(), NONE_CLASS))
    return out


# -- the model ---------------------------------------------------------------------------------

@dataclass
class _Block:
    """One fitted TfidfVectorizer, reduced to what scoring needs."""

    analyzer: object  # callable: text -> list of n-grams, exactly as in training
    vocabulary: Dict[str, int]
    idf: np.ndarray
    offset: int  # where this block's columns start in the coefficient matrix


class RiskClassifier:
    """Probability that a message signals risk, and the most likely category."""

    def __init__(self, blocks: List[_Block], coef: np.ndarray, intercept: np.ndarray, classes: Sequence[str], threshold: float) -> None:
        self._blocks = blocks
        self._coef = coef
        self._intercept = intercept
        self.classes = tuple(classes)
        self._none = self.classes.index(NONE_CLASS)
        self.threshold = threshold

    def probabilities(self, text: str) -> np.ndarray:
        """Class probabilities in the order of `classes` (the same as scikit-learn's predict_proba)."""
        prepared = prepare(text)
        columns: List[np.ndarray] = []
        values: List[np.ndarray] = []
        for block in self._blocks:
            vocabulary = block.vocabulary
            counts = Counter(gram for gram in block.analyzer(prepared) if gram in vocabulary)
            if not counts:
                continue
            index = np.fromiter((vocabulary[g] for g in counts), dtype=np.intp, count=len(counts))
            # TfidfVectorizer(sublinear_tf=True, norm="l2"): (1 + ln tf) * idf, unit length per block
            weights = (1.0 + np.log(np.fromiter(counts.values(), dtype=float, count=len(counts)))) * block.idf[index]
            columns.append(index + block.offset)
            values.append(weights / np.sqrt(weights @ weights))
        scores = self._intercept.copy()
        if columns:
            scores += self._coef[:, np.concatenate(columns)] @ np.concatenate(values)
        scores -= scores.max()
        exp = np.exp(scores)
        return exp / exp.sum()

    def risk(self, text: str) -> Tuple[float, Optional[str]]:
        """(probability of any risk, most likely risk category)."""
        probabilities = self.probabilities(text)
        p_risk = 1.0 - float(probabilities[self._none])
        ranked = sorted((p, c) for c, p in zip(self.classes, probabilities) if c != NONE_CLASS)
        return p_risk, ranked[-1][1] if ranked else None

    def flags(self, text: str) -> Optional[str]:
        """The category when the message reaches the threshold, else None."""
        p_risk, category = self.risk(text)
        return category if p_risk >= self.threshold else None


def make_pipeline(c: float, seed: int):
    """The scikit-learn model: char (2-5, inside word boundaries) and word (1-2) n-gram TF-IDF,
    multinomial logistic regression with balanced class weights."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline as sk_pipeline, make_union

    features = make_union(
        TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), min_df=2, sublinear_tf=True, lowercase=False),
        TfidfVectorizer(analyzer="word", ngram_range=(1, 2), sublinear_tf=True, lowercase=False, token_pattern=r"(?u)\b\w+\b|[^\w\s]"),
    )
    model = LogisticRegression(C=c, max_iter=3000, class_weight="balanced", random_state=seed)
    return sk_pipeline(features, model)


def training_examples(config: ClassifierConfig) -> List[Tuple[str, str]]:
    examples = labelled_examples(config.labelled)
    if config.nlu_negatives is not None:
        examples += nlu_negative_examples(config.nlu_negatives)
    # One label per text (a labelled risk line wins over an NLU negative), in a fixed order.
    by_text: Dict[str, str] = {}
    for text, label in examples:
        key = prepare(text)
        if key and (key not in by_text or by_text[key] == NONE_CLASS):
            by_text[key] = label
    return sorted(by_text.items())


def fit(examples: Sequence[Tuple[str, str]], c: float, seed: int, threshold: float) -> RiskClassifier:
    texts = [t for t, _ in examples]
    labels = [c_ for _, c_ in examples]
    pipeline = make_pipeline(c, seed)
    pipeline.fit(texts, labels)
    union, model = pipeline.steps[0][1], pipeline.steps[1][1]
    blocks, offset = [], 0
    for _, vectorizer in union.transformer_list:
        blocks.append(_Block(vectorizer.build_analyzer(), dict(vectorizer.vocabulary_), vectorizer.idf_.copy(), offset))
        offset += len(vectorizer.vocabulary_)
    return RiskClassifier(blocks, model.coef_.copy(), model.intercept_.copy(), list(model.classes_), threshold)


def build_classifier(language: str, path: Optional[Path] = None) -> Optional[RiskClassifier]:
    """The trained second opinion for `language`, or None if it is not configured or disabled."""
    config = read_config(language, path)
    if config is None or not config.enabled:
        return None
    return fit(training_examples(config), config.c, config.seed, config.threshold)
