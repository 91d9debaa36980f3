"""Error logs that keep file and line but never a user's words.

An exception's message can quote what a young person typed (a KeyError on their text, a parser's
"invalid literal: '...'") and so can an exception passed as a log argument. Logs here keep the
exception's type and its stack frames (file, line, function) and drop the messages:

  exception_summary(exc_info)   the traceback without messages or source lines, causes included
  make_safe(record)             a record's exception text replaced by the summary, exceptions in
                                its arguments replaced by their type names
  install_record_factory()      make_safe() for every record this process creates, whatever handler
                                or formatter prints it (Rasa's, Sanic's, pytest's): done on
                                `import bot`, so every process that runs our code has it
  SafeFormatter                 the formatter of every handler we configure; wraps a foreign
                                formatter (coloredlogs in Rasa and the action server) the same way
  handle_error                  what a handler does when it cannot write a record: Python's own
                                prints the record's exception chain in full, messages included
  configure(...)                root logging for our own processes (runner, Telegram, review page,
                                console); protect_existing_handlers() for processes whose logging
                                someone else configured (Rasa, the action server)
  structlog_processor           the same for Rasa's structlog events (bot/nlp/log_privacy.py)
"""

from __future__ import annotations

import logging
import sys
import traceback
from types import MethodType, TracebackType
from typing import Any, Iterable, List, MutableMapping, Optional, TextIO, Tuple, Type, Union

ExcInfo = Tuple[Type[BaseException], BaseException, Optional[TracebackType]]

DEFAULT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
HEADER = "Traceback (most recent call last; exception messages are left out of logs):"
LEFT_OUT = "(a traceback from elsewhere, left out of logs)"
_SAFE = "_scrollcheck_safe"  # set on records whose exc_text make_safe() wrote


def type_name(exc: BaseException) -> str:
    """`KeyError`, `sqlalchemy.exc.OperationalError`: the type as a traceback names it."""
    cls = type(exc)
    module = cls.__module__
    return (
        cls.__qualname__ if module in ("builtins", "__main__") else f"{module}.{cls.__qualname__}"
    )


def _chain(exc: BaseException) -> List[Tuple[BaseException, str]]:
    """The exception and its causes, oldest first, each with the line Python puts after it."""
    chain: List[Tuple[BaseException, str]] = []
    seen = set()
    link = ""
    current: Optional[BaseException] = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        chain.append((current, link))
        if current.__cause__ is not None:
            current, link = (
                current.__cause__,
                "The above exception was the direct cause of the following exception:",
            )
        elif current.__context__ is not None and not current.__suppress_context__:
            current, link = (
                current.__context__,
                "During handling of the above exception, another exception occurred:",
            )
        else:
            current = None
    chain.reverse()  # a cause's sentence is printed after it, before the exception it caused
    return chain


def exception_summary(exc_info: Union[ExcInfo, Tuple[None, None, None]]) -> str:
    """A traceback with every frame's file, line and function, and only the types of exceptions."""
    exc = exc_info[1]
    if exc is None:
        return ""
    lines: List[str] = []
    for link_exc, link in _chain(exc):
        lines.append(HEADER)
        for frame in traceback.extract_tb(link_exc.__traceback__):
            lines.append(f'  File "{frame.filename}", line {frame.lineno}, in {frame.name}')
        lines.append(type_name(link_exc))
        if link:
            lines += ["", link, ""]
    return "\n".join(lines)


def _safe_arg(value: Any) -> Any:
    return f"<{type_name(value)}>" if isinstance(value, BaseException) else value


def make_safe(record: logging.LogRecord) -> logging.LogRecord:
    """Give `record` a message-free exception text; exceptions as message or arguments become types."""
    if record.exc_info and record.exc_info[1] is not None:
        record.exc_text = exception_summary(record.exc_info)
        setattr(record, _SAFE, True)
    elif record.exc_text and not getattr(record, _SAFE, False):
        record.exc_text = LEFT_OUT
    if isinstance(record.msg, BaseException):
        record.msg = _safe_arg(record.msg)
    if isinstance(record.args, tuple):
        if any(isinstance(arg, BaseException) for arg in record.args):
            record.args = tuple(_safe_arg(arg) for arg in record.args)
    elif isinstance(record.args, dict):
        if any(isinstance(arg, BaseException) for arg in record.args.values()):
            record.args = {key: _safe_arg(arg) for key, arg in record.args.items()}
    return record


def install_record_factory() -> None:
    """Every record created from now on in this process goes through make_safe (idempotent)."""
    current = logging.getLogRecordFactory()
    if getattr(current, "_scrollcheck", False):
        return

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        return make_safe(current(*args, **kwargs))

    factory._scrollcheck = True  # type: ignore[attr-defined]
    logging.setLogRecordFactory(factory)


class SafeFormatter(logging.Formatter):
    """Formats like logging.Formatter (or like `inner`), with make_safe applied to a copy of the
    record, and `secrets` (a bot token, a webhook secret) replaced wherever they would appear."""

    def __init__(
        self,
        fmt: Optional[str] = DEFAULT_FORMAT,
        datefmt: Optional[str] = None,
        *,
        secrets: Iterable[str] = (),
        inner: Optional[logging.Formatter] = None,
    ) -> None:
        super().__init__(fmt, datefmt)
        self._secrets = [secret for secret in secrets if secret]
        self._inner = inner

    def format(self, record: logging.LogRecord) -> str:
        safe = make_safe(logging.makeLogRecord(self.prepare(record).__dict__))
        text = self._inner.format(safe) if self._inner is not None else super().format(safe)
        for secret in self._secrets:
            text = text.replace(secret, "<redacted>")
        return text

    def prepare(self, record: logging.LogRecord) -> logging.LogRecord:
        """A hook for subclasses that replace more arguments (the Telegram front end's objects)."""
        return record

    def formatException(self, ei: Any) -> str:  # noqa: N802 — logging's name
        return exception_summary(ei)


def handle_error(handler: logging.Handler, record: logging.LogRecord) -> None:
    """Handler.handleError without the leak: logging's own prints the failed write's exception,
    whose context is often the very exception being logged, with its message, to stderr (which
    `scrollcheck run` sends to the log files)."""
    if not logging.raiseExceptions or sys.stderr is None:
        return
    try:
        sys.stderr.write(
            f"--- Logging error in {type(handler).__name__} for logger {record.name} "
            f"({record.pathname}:{record.lineno}) ---\n{exception_summary(sys.exc_info())}\n"
        )
    except Exception:  # noqa: BLE001 — nothing left to report to
        pass


class SafeStreamHandler(logging.StreamHandler):
    def handleError(self, record: logging.LogRecord) -> None:  # noqa: N802 — logging's name
        handle_error(self, record)


def configure(
    level: int = logging.INFO,
    *,
    stream: Optional[TextIO] = None,
    formatter: Optional[logging.Formatter] = None,
    fmt: str = DEFAULT_FORMAT,
) -> logging.Handler:
    """Root logging of one of our processes: one stream handler with a SafeFormatter."""
    install_record_factory()
    handler = SafeStreamHandler(stream or sys.stderr)
    handler.setFormatter(formatter or SafeFormatter(fmt))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    return handler


def protect_existing_handlers() -> int:
    """Wrap the formatter of every handler in this process in a SafeFormatter; returns how many.

    For processes whose logging Rasa or rasa_sdk set up before our code was imported.
    """
    install_record_factory()
    loggers: List[logging.Logger] = [logging.getLogger()]
    loggers += [
        obj for obj in logging.Logger.manager.loggerDict.values() if isinstance(obj, logging.Logger)
    ]
    wrapped = 0
    for logger in loggers:
        for handler in logger.handlers:
            if not isinstance(handler.formatter, SafeFormatter):
                handler.setFormatter(SafeFormatter(inner=handler.formatter or logging.Formatter()))
                handler.handleError = MethodType(handle_error, handler)  # type: ignore[method-assign]
                wrapped += 1
    return wrapped


def structlog_processor(
    _: Any, method_name: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """For structlog (Rasa): `exc_info` becomes `exception`, a summary without messages.

    Rasa's JSON renderer would otherwise write the message and, with dict_tracebacks, every
    frame's local variables; `exc_info=False` stops its later processors from rendering again.
    """
    exc_info = event_dict.get("exc_info")
    if exc_info is None and method_name == "exception":
        exc_info = True
    if exc_info:
        if isinstance(exc_info, BaseException):
            info: Any = (type(exc_info), exc_info, exc_info.__traceback__)
        elif isinstance(exc_info, tuple):
            info = exc_info
        else:
            info = sys.exc_info()
        if info[1] is not None:
            event_dict["exception"] = exception_summary(info)
        event_dict["exc_info"] = False
    for key, value in list(event_dict.items()):
        if isinstance(value, BaseException):
            event_dict[key] = _safe_arg(value)
    return event_dict
