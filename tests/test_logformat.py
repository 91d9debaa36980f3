"""bot/logformat.py: an error's type and stack frames stay in the logs, its message never does."""

from __future__ import annotations

import io
import logging
import re
import sys
from typing import Dict, Iterator

import pytest

from bot import logformat
from bot.logformat import HEADER, SafeFormatter, exception_summary

USER_TEXT = "my best friend posted the screenshot and i can't stop crying"


def lookup(table: Dict[str, str], key: str) -> str:
    return table[key]  # LOOKUP LINE


def line_of(marker: str) -> int:
    source = open(__file__, encoding="utf-8").read().splitlines()
    return next(number for number, line in enumerate(source, start=1) if line.endswith(marker))


def caught() -> BaseException:
    try:
        try:
            lookup({}, USER_TEXT)
        except KeyError as error:
            raise RuntimeError(f"could not read {USER_TEXT!r}") from error  # CAUSE LINE
    except RuntimeError as error:
        return error
    raise AssertionError("unreachable")


@pytest.fixture
def root_logging() -> Iterator[None]:
    """Put back pytest's handlers and the level after a test that configures the root logger."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    try:
        yield
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)


def test_the_summary_keeps_types_and_frames_of_the_whole_chain_and_no_message() -> None:
    error = caught()
    summary = exception_summary((type(error), error, error.__traceback__))
    assert USER_TEXT not in summary and "could not read" not in summary
    assert f'File "{__file__}", line {line_of("# LOOKUP LINE")}, in lookup' in summary
    assert f'File "{__file__}", line {line_of("# CAUSE LINE")}, in caught' in summary
    # Python's order: the cause first, then the sentence, then what it caused.
    assert (
        summary.index("\nKeyError\n")
        < summary.index("direct cause")
        < summary.rindex("RuntimeError")
    )
    assert summary.count(HEADER) == 2


def test_every_record_of_the_process_is_safe_whatever_prints_it() -> None:
    # `import bot` installed the record factory: a plain handler with Python's own formatter,
    # like Rasa's or Sanic's, prints the safe summary too; exceptions as arguments are types.
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(levelname)s %(message)s"))
    logger = logging.getLogger("tests.logformat.plain")
    logger.addHandler(handler)
    try:
        error = caught()
        logger.error("failed: %s", error, exc_info=error)
        try:
            int(USER_TEXT)
        except ValueError as value_error:
            logger.exception(value_error)  # a library's habit: the exception as the message
    finally:
        logger.removeHandler(handler)
    text = stream.getvalue()
    assert "ERROR failed: <RuntimeError>" in text and "ERROR <ValueError>" in text
    assert f"line {line_of('# LOOKUP LINE')}, in lookup" in text and "\nValueError" in text
    assert USER_TEXT not in text and "invalid literal" not in text


def test_a_foreign_formatter_is_wrapped(root_logging: None) -> None:
    # What protect_existing_handlers() does to rasa_sdk's coloredlogs handler in the action server.
    import coloredlogs

    stream = io.StringIO()
    logger = logging.getLogger("tests.logformat.colored")
    coloredlogs.install(
        level="DEBUG",
        logger=logger,
        stream=stream,
        fmt="%(levelname)-8s %(name)s - %(message)s",
        isatty=False,
    )
    logger.propagate = False
    try:
        assert logformat.protect_existing_handlers() >= 1
        assert all(isinstance(h.formatter, SafeFormatter) for h in logger.handlers)
        record = logger.makeRecord(
            logger.name, logging.ERROR, __file__, 1, "action failed", (), None
        )
        error = caught()
        record.exc_info, record.exc_text = (
            (type(error), error, error.__traceback__),
            f"Traceback ... {USER_TEXT}",
        )
        logger.handle(record)  # a record made by someone else, with a cached full traceback
    finally:
        logger.handlers.clear()
    text = stream.getvalue()
    assert "ERROR    tests.logformat.colored - action failed" in text
    assert f"line {line_of('# LOOKUP LINE')}, in lookup" in text and USER_TEXT not in text


def test_structlog_events_keep_frames_not_messages(caplog: pytest.LogCaptureFixture) -> None:
    # Rasa's structlog configuration (JSON with dict tracebacks, frame locals included) plus
    # bot/nlp/log_privacy.py's install(), as in `rasa run`.
    import structlog
    from rasa.utils.log_utils import configure_structlog

    from bot.nlp.log_privacy import install

    configure_structlog(logging.INFO)
    install()
    logger = structlog.get_logger("rasa.core.processor")
    with caplog.at_level(logging.INFO):
        try:
            lookup({}, USER_TEXT)
        except KeyError:
            logger.exception("processor.actions.failed", text=USER_TEXT)
        error = caught()
        logger.error("processor.other", exc_info=error)
    printed = caplog.text
    assert "processor.actions.failed" in printed and "processor.other" in printed
    assert f"line {line_of('# LOOKUP LINE')}, in lookup" in printed and "KeyError" in printed
    assert USER_TEXT not in printed and "could not read" not in printed


def test_the_telegram_formatter_still_redacts_secrets() -> None:
    from bot.telegram.app import RedactingFormatter

    formatter = RedactingFormatter("%(levelname)s %(message)s", secrets=["123:SECRET-TOKEN"])
    try:
        raise ConnectionError("https://api.telegram.org/bot123:SECRET-TOKEN/getMe")
    except ConnectionError:
        record = logging.getLogger("telegram").makeRecord(
            "telegram",
            logging.ERROR,
            __file__,
            1,
            "call to %s failed",
            ("bot123:SECRET-TOKEN",),
            sys.exc_info(),
        )
    line = formatter.format(record)
    assert line.startswith("ERROR call to bot<redacted> failed\n" + HEADER)
    assert "SECRET-TOKEN" not in line and line.endswith("ConnectionError")


def test_a_handler_that_cannot_write_does_not_print_the_exception_it_was_logging(
    capsys: pytest.CaptureFixture,
) -> None:
    # logging's own handleError prints the write error with its context, the exception being
    # logged, message and all, to stderr (which `scrollcheck run` sends to a log file).
    closed = io.StringIO()
    closed.close()
    ours = logformat.SafeStreamHandler(closed)
    foreign = logging.StreamHandler(closed)
    logger = logging.getLogger("tests.logformat.closed")
    logger.propagate = False
    logger.addHandler(foreign)
    logformat.protect_existing_handlers()
    logger.addHandler(ours)
    try:
        try:
            lookup({}, USER_TEXT)
        except KeyError:
            logger.error("turn failed", exc_info=True)
    finally:
        logger.handlers.clear()
    err = capsys.readouterr().err
    assert err.count("--- Logging error in") == 2 and "for logger tests.logformat.closed" in err
    assert "ValueError" in err and "KeyError" in err and USER_TEXT not in err


def test_error_logs_pass_the_exception_so_its_frames_are_kept() -> None:
    # `logger.error("x failed: %s", type(exc).__name__)` alone is a bare "KeyError" in production.
    from tests.stack import PROJECT_ROOT

    bare = re.compile(
        r"\b(logger|log)\.(error|warning|critical|debug|info)\(.*type\((exc|error|err|e|context\.error)\)\.__name__\)\s*(#.*)?$"
    )
    found = [
        f"{path.relative_to(PROJECT_ROOT)}:{number}"
        for root in ("bot", "actions")
        for path in sorted((PROJECT_ROOT / root).rglob("*.py"))
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
        if bare.search(line)
    ]
    assert found == [], "add exc_info=True (or exc_info=the exception) to these log calls"
