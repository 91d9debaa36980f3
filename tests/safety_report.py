"""One assertion for every labelled-set test: the thresholds, with the full report on failure."""

from __future__ import annotations

from pathlib import Path
from typing import Iterable

from bot.safety.evaluation import EvalReport, Thresholds, format_report


def assert_meets(
    report: EvalReport, thresholds: Thresholds, source: Path, more_failures: Iterable[str] = ()
) -> None:
    failures = thresholds.failures(report) + list(more_failures)
    assert not failures, (
        "\n" + format_report(report, thresholds, str(source)) + "\n\n" + "; ".join(failures)
    )
