"""Capture every log record the way production writes it, and check what they may contain.

`scrollcheck telegram` writes its logs through one root handler with RedactingFormatter, at INFO
(the third-party loggers that would print tokens or whole updates at WARNING). The capture here
uses the same formatter and levels, with our own loggers down to DEBUG, so a line that would
leak in production leaks here.

Allowed in a log: exception type names, pseudonyms and counts. `offending_args` checks each
record's arguments against that; `leaks` scans the formatted lines (tracebacks included) for the
generated texts, ids and names.
"""

from __future__ import annotations

import logging
import re
from typing import Iterable, Iterator, List, Sequence, Tuple

from bot.telegram.app import QUIET_LOGGERS, RedactingFormatter, quiet_third_party_loggers

_PSEUDONYM = re.compile(r"^[0-9a-f]{64}$")
# An exception's type name, or one of the gateway's fixed failure words ("timeout", "HTTP 503",
# "answer is a dict, not a list", "no message to show"): letters, digits and a few separators.
_FIXED_WORDS = re.compile(r"^[A-Za-z][A-Za-z0-9_.,: -]{0,60}$")


class Capture(logging.Handler):
    def __init__(self, secrets: Sequence[str]) -> None:
        super().__init__(logging.DEBUG)
        self.setFormatter(
            RedactingFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s", secrets)
        )
        self.records: List[logging.LogRecord] = []
        self.lines: List[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)
        self.lines.append(self.format(record))

    def at_least(self, level: int) -> List[str]:
        return [line for record, line in zip(self.records, self.lines) if record.levelno >= level]


class production_logging:
    """with production_logging(secrets) as capture: ... (levels restored afterwards)"""

    def __init__(self, secrets: Sequence[str] = ()) -> None:
        self.capture = Capture(secrets)
        self._saved: List[Tuple[str, int]] = []

    def __enter__(self) -> Capture:
        names = ["", "bot", *QUIET_LOGGERS]
        self._saved = [(name, logging.getLogger(name).level) for name in names]
        logging.getLogger().setLevel(logging.INFO)
        logging.getLogger("bot").setLevel(logging.DEBUG)
        quiet_third_party_loggers()
        logging.getLogger().addHandler(self.capture)
        return self.capture

    def __exit__(self, *exc: object) -> None:
        logging.getLogger().removeHandler(self.capture)
        for name, level in self._saved:
            logging.getLogger(name).setLevel(level)


def offending_args(records: Iterable[logging.LogRecord]) -> List[str]:
    """Records whose arguments are anything but numbers, pseudonyms and fixed words."""
    bad = []
    for record in records:
        args = (
            record.args if isinstance(record.args, tuple) else (record.args,) if record.args else ()
        )
        for arg in args:
            if arg is None or isinstance(arg, (bool, int, float)):
                continue
            if isinstance(arg, str) and (_PSEUDONYM.match(arg) or _FIXED_WORDS.match(arg)):
                continue
            bad.append(
                f"{record.name}:{record.lineno} {record.msg!r} arg of type {type(arg).__name__}"
            )
    return bad


def leaks(lines: Sequence[str], needles: Iterable[str]) -> Iterator[str]:
    """The needles found in any line (each reported once)."""
    text = "\n".join(lines)
    for needle in needles:
        if needle in text:
            yield needle
