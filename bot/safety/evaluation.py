"""Measure the detector on a labelled set: any-risk recall, urgent recall, false-positive rate.

The labelled file is JSON lines, one message per line:
    {"text": "...", "level": "none"|"concern"|"urgent", "category": "self_harm"|... or null,
     "lang": "en" (optional), "tags": [...] (optional, for reading the report)}

Definitions (the pytest thresholds and `scrollcheck risk --report` use exactly these):
  any-risk recall  = risk-labelled messages the detector flags at any level / all risk-labelled
  urgent recall    = urgent-labelled messages the detector calls urgent / all urgent-labelled
  false-positive rate = benign messages given a crisis reply (concern or urgent) / all benign
  check rate       = benign messages given the direct check question (level `check`) / all benign
A message may carry `context` (earlier messages of the same chat, oldest first); the detector
reads the message with it, as the gateway and Rasa do.
Category agreement and over-escalation (concern labelled, urgent detected) are reported too,
but are not thresholds: a wrong category still sends crisis resources.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, List, Optional, Sequence, Tuple

from bot.content.yamlsource import ContentError
from bot.safety.result import CATEGORIES, LEVELS, RiskResult

DEFAULT_MIN_RECALL = 0.95
DEFAULT_MIN_URGENT_RECALL = 0.85
DEFAULT_MAX_FPR = 0.03
DEFAULT_MAX_CHECK_RATE = 0.08


@dataclass(frozen=True)
class LabelledMessage:
    line: int
    text: str
    level: str
    category: Optional[str]
    lang: str = "en"
    tags: tuple = ()
    context: Tuple[str, ...] = ()


@dataclass(frozen=True)
class Outcome:
    item: LabelledMessage
    result: RiskResult


@dataclass
class EvalReport:
    outcomes: List[Outcome] = field(default_factory=list)

    def _select(self, predicate: Callable[[Outcome], bool]) -> List[Outcome]:
        return [o for o in self.outcomes if predicate(o)]

    @property
    def risk(self) -> List[Outcome]:
        return self._select(lambda o: o.item.level != "none")

    @property
    def urgent(self) -> List[Outcome]:
        return self._select(lambda o: o.item.level == "urgent")

    @property
    def benign(self) -> List[Outcome]:
        return self._select(lambda o: o.item.level == "none")

    @property
    def misses(self) -> List[Outcome]:
        """Risk-labelled messages the detector let through."""
        return [o for o in self.risk if not o.result.is_risk]

    @property
    def urgent_misses(self) -> List[Outcome]:
        """Urgent-labelled messages not called urgent (including those missed entirely)."""
        return [o for o in self.urgent if o.result.level != "urgent"]

    @property
    def false_positives(self) -> List[Outcome]:
        """Benign messages given a crisis reply."""
        return [o for o in self.benign if o.result.is_crisis]

    @property
    def checks_on_benign(self) -> List[Outcome]:
        """Benign messages given the direct check question."""
        return [o for o in self.benign if o.result.level == "check"]

    @property
    def category_differences(self) -> List[Outcome]:
        return [o for o in self.risk if o.result.is_risk and o.result.category != o.item.category]

    @property
    def over_escalations(self) -> List[Outcome]:
        return [o for o in self.risk if o.item.level == "concern" and o.result.level == "urgent"]

    @staticmethod
    def _ratio(part: int, whole: int, empty: float) -> float:
        return part / whole if whole else empty

    @property
    def recall(self) -> float:
        return self._ratio(len(self.risk) - len(self.misses), len(self.risk), 1.0)

    @property
    def urgent_recall(self) -> float:
        return self._ratio(len(self.urgent) - len(self.urgent_misses), len(self.urgent), 1.0)

    @property
    def urgent_flagged(self) -> float:
        """Urgent-labelled messages flagged at any level (they get helplines, if not the emergency first)."""
        return self._ratio(sum(o.result.is_risk for o in self.urgent), len(self.urgent), 1.0)

    @property
    def false_positive_rate(self) -> float:
        return self._ratio(len(self.false_positives), len(self.benign), 0.0)

    @property
    def check_rate(self) -> float:
        return self._ratio(len(self.checks_on_benign), len(self.benign), 0.0)

    @property
    def category_agreement(self) -> float:
        flagged = [o for o in self.risk if o.result.is_risk]
        return self._ratio(len(flagged) - len(self.category_differences), len(flagged), 1.0)


@dataclass(frozen=True)
class Thresholds:
    min_recall: float = DEFAULT_MIN_RECALL
    min_urgent_recall: float = DEFAULT_MIN_URGENT_RECALL
    max_fpr: float = DEFAULT_MAX_FPR
    max_check_rate: float = DEFAULT_MAX_CHECK_RATE

    def failures(self, report: EvalReport) -> List[str]:
        failed = []
        if report.recall < self.min_recall:
            failed.append(f"any-risk recall {report.recall:.3f} < {self.min_recall}")
        if report.urgent_recall < self.min_urgent_recall:
            failed.append(f"urgent recall {report.urgent_recall:.3f} < {self.min_urgent_recall}")
        if report.false_positive_rate > self.max_fpr:
            failed.append(f"false-positive rate {report.false_positive_rate:.3f} > {self.max_fpr}")
        if report.check_rate > self.max_check_rate:
            failed.append(f"check rate on benign {report.check_rate:.3f} > {self.max_check_rate}")
        return failed


def load_labelled(path: Path) -> List[LabelledMessage]:
    """Read a labelled JSON-lines file; raises ContentError (file:line) on a malformed entry."""
    path = Path(path)
    items: List[LabelledMessage] = []
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not raw.strip():
            continue
        try:
            data = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise ContentError(path, number, f"not valid JSON ({exc.msg})") from None
        if not isinstance(data, dict):
            raise ContentError(path, number, "each line must be a JSON object")
        text, level, category = data.get("text"), data.get("level"), data.get("category")
        if not isinstance(text, str) or not text.strip():
            raise ContentError(path, number, "`text` must be non-empty text")
        if level not in LEVELS:
            raise ContentError(path, number, f"`level` must be one of {', '.join(LEVELS)}")
        if level == "none" and category is not None:
            raise ContentError(path, number, "a message labelled `none` has `category: null`")
        if level != "none" and category not in CATEGORIES:
            raise ContentError(path, number, f"`category` must be one of {', '.join(CATEGORIES)}")
        lang = data.get("lang", "en")
        if not isinstance(lang, str):
            raise ContentError(path, number, '`lang` must be text such as "en"')
        tags = data.get("tags", [])
        if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
            raise ContentError(path, number, "`tags` must be a list of words")
        context = data.get("context", [])
        if not isinstance(context, list) or not all(isinstance(c, str) for c in context):
            raise ContentError(path, number, "`context` must be a list of earlier messages")
        items.append(
            LabelledMessage(number, text, level, category, lang, tuple(tags), tuple(context))
        )
    if not items:
        raise ContentError(path, 1, "the labelled set is empty")
    return items


Classify = Callable[[str, str, Tuple[str, ...]], RiskResult]


def evaluate(items: Sequence[LabelledMessage], classify: Classify) -> EvalReport:
    """`classify(text, lang, context)` for every item."""
    return EvalReport(
        [Outcome(item, classify(item.text, item.lang, item.context)) for item in items]
    )


def _describe(outcome: Outcome) -> str:
    item, result = outcome.item, outcome.result
    expected = f"{item.level}/{item.category}" if item.category else item.level
    got = f"{result.level}/{result.category}" if result.category else result.level
    ids = f" [{', '.join(result.matched)}]" if result.matched else ""
    return f"  line {item.line}: expected {expected}, got {got}{ids}: {json.dumps(item.text, ensure_ascii=False)}"


def format_report(report: EvalReport, thresholds: Thresholds, source: str = "") -> str:
    def verdict(ok: bool) -> str:
        return "ok" if ok else "FAIL"

    lines = [
        f"labelled set: {source} ({len(report.outcomes)} messages: {len(report.risk)} risk, "
        f"{len(report.urgent)} of them urgent, {len(report.benign)} benign)",
        f"any-risk recall      {report.recall:.3f}  ({len(report.risk) - len(report.misses)}/{len(report.risk)})"
        f"  needs >= {thresholds.min_recall}  {verdict(report.recall >= thresholds.min_recall)}",
        f"urgent recall        {report.urgent_recall:.3f}  ({len(report.urgent) - len(report.urgent_misses)}/{len(report.urgent)})"
        f"  needs >= {thresholds.min_urgent_recall}  {verdict(report.urgent_recall >= thresholds.min_urgent_recall)}",
        f"urgent flagged       {report.urgent_flagged:.3f}  (urgent messages flagged at any level, informational)",
        f"false-positive rate  {report.false_positive_rate:.3f}  ({len(report.false_positives)}/{len(report.benign)} benign given a crisis reply)"
        f"  needs <= {thresholds.max_fpr}  {verdict(report.false_positive_rate <= thresholds.max_fpr)}",
        f"check rate           {report.check_rate:.3f}  ({len(report.checks_on_benign)}/{len(report.benign)} benign asked the direct check)"
        f"  needs <= {thresholds.max_check_rate}  {verdict(report.check_rate <= thresholds.max_check_rate)}",
        f"category agreement   {report.category_agreement:.3f}  (informational)",
        f"concern called urgent: {len(report.over_escalations)} (informational)",
    ]
    sections = (
        ("misses (risk labelled, detector said none)", report.misses),
        ("urgent not called urgent", [o for o in report.urgent_misses if o.result.is_risk]),
        ("false positives (benign, crisis reply)", report.false_positives),
        ("direct checks on benign messages", report.checks_on_benign),
        ("category differences (informational)", report.category_differences),
    )
    for title, outcomes in sections:
        lines.append("")
        lines.append(f"{title}: {len(outcomes)}")
        lines.extend(_describe(o) for o in outcomes)
    return "\n".join(lines)
