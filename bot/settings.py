"""Every environment variable scrollcheck reads: its default, its parsing and its error, in one place.

Map:
  Setting            one variable: name, default, meaning, parser; `.get()` reads and parses it
  SettingError       a bad value: names the variable, says what is wrong and what is expected, and
                     never repeats the value of a secret (tokens, passwords, URLs with passwords)
  DATABASE_URL ...   the variables, in README order (`ALL`); typed, so callers get an int, a
                     float, a Path or a str, never raw text
  retention()        SCROLLCHECK_RETENTION_DAYS as a timedelta: the one meaning of the retention, for
                     the hourly purge in `scrollcheck run` and for `scrollcheck purge`
  check(), markdown_table(), main()
                     all errors at once (`scrollcheck run` starts nothing on a bad value), the
                     README table (a test keeps it in step), and `scrollcheck settings`

An empty or blank variable counts as unset, so `FOO= make run` means the default. Modules read
settings here and nowhere else (`os.environ` only to pass an environment on to a child process).
"""

from __future__ import annotations

import argparse
import datetime as dt
import math
import os
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Generic, List, Mapping, Optional, Sequence, Tuple, TypeVar
from urllib.parse import urlsplit

from bot import PROJECT_ROOT

T = TypeVar("T")
Environ = Mapping[str, str]


class SettingError(ValueError):
    """A variable holds a value scrollcheck cannot use; the message is safe to print and to log."""


class Invalid(Exception):
    """Raised by a parser: what is wrong with the value (never the value itself)."""

    def __init__(self, problem: str) -> None:
        super().__init__(problem)
        self.problem = problem


@dataclass(frozen=True)
class Setting(Generic[T]):
    name: str
    parse: Callable[[str], T] = field(repr=False)
    default: T
    shown_default: str  # the default as the README shows it
    expected: str  # what a valid value looks like, for the error message
    meaning: str  # one line for the README
    group: str
    secret: bool = False  # never echoed in errors or in `scrollcheck settings`

    def raw(self, environ: Optional[Environ] = None) -> str:
        """The stripped text of the variable ("" when unset)."""
        env = os.environ if environ is None else environ
        return (env.get(self.name) or "").strip()

    def is_set(self, environ: Optional[Environ] = None) -> bool:
        return bool(self.raw(environ))

    def get(self, environ: Optional[Environ] = None) -> T:
        """The parsed value, or the default when the variable is unset or blank."""
        text = self.raw(environ)
        if not text:
            return self.default
        try:
            return self.parse(text)
        except Invalid as bad:
            raise SettingError(self.error(text, bad.problem)) from None

    def error(self, text: str, problem: str) -> str:
        if self.secret:
            return f"{self.name} is not valid: {problem} (the value is not shown); expected {self.expected}"
        return f"{self.name}={text!r} is not valid: {problem}; expected {self.expected}"


ALL: List[Setting[Any]] = []


def _define(setting: Setting[T]) -> Setting[T]:
    ALL.append(setting)
    return setting


# --- parsers: each raises Invalid(problem) ------------------------------------------------------


def _text(value: str) -> str:
    return value


def _port(value: str) -> int:
    if not (value.isascii() and value.isdigit()):
        raise Invalid("it is not a whole number")
    port = int(value)
    if not 0 < port < 65536:
        raise Invalid("it is outside 1–65535")
    return port


def _whole(minimum: int, maximum: int) -> Callable[[str], int]:
    def parse(value: str) -> int:
        if not (value.isascii() and value.isdigit()):
            raise Invalid("it is not a whole number")
        if not minimum <= int(value) <= maximum:
            raise Invalid(f"it is outside {minimum}–{maximum}")
        return int(value)

    return parse


def _non_negative_int(value: str) -> int:
    if not (value.isascii() and value.isdigit()):
        raise Invalid("it is not a whole number of 0 or more")
    return int(value)


def _seconds(zero_allowed: bool) -> Callable[[str], float]:
    def parse(value: str) -> float:
        try:
            seconds = float(value)
        except ValueError:
            raise Invalid("it is not a number") from None
        if not math.isfinite(seconds):
            raise Invalid("it is not a finite number")
        if seconds < 0 or (seconds == 0 and not zero_allowed):
            raise Invalid("it is not 0 or more" if zero_allowed else "it is not above zero")
        return seconds

    return parse


def _positive_days(value: str) -> float:
    try:
        days = float(value)
    except ValueError:
        raise Invalid("it is not a number") from None
    if not math.isfinite(days):
        raise Invalid("it is not a finite number")
    if days <= 0:
        # Zero or less would purge conversations that are still going on.
        raise Invalid("it is not above zero (it would purge conversations in progress)")
    return days


_TRUE, _FALSE = {"1", "true", "yes", "on"}, {"0", "false", "no", "off"}


def _flag(value: str) -> bool:
    lowered = value.lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise Invalid("it is neither true nor false")


def _url(schemes: Sequence[str]) -> Callable[[str], str]:
    def parse(value: str) -> str:
        try:
            parts = urlsplit(value)
            parts.port  # noqa: B018 — raises ValueError on a malformed port
        except ValueError:
            raise Invalid("it is not a URL") from None
        if parts.scheme not in schemes:
            raise Invalid(f"its scheme is {parts.scheme or 'missing'}")
        if not parts.hostname:
            raise Invalid("it has no host")
        return value

    return parse


def _database_url(value: str) -> str:
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        url = make_url(value)
    except (ArgumentError, ValueError):
        raise Invalid("SQLAlchemy cannot read it as a database URL") from None
    if url.get_backend_name() not in {"sqlite", "postgresql", "postgres"}:
        raise Invalid("its database is neither SQLite nor PostgreSQL")
    return value


def _min_chars(minimum: int) -> Callable[[str], str]:
    def parse(value: str) -> str:
        if len(value) < minimum:
            raise Invalid(f"it has {len(value)} characters, fewer than {minimum}")
        return value

    return parse


# A secret shorter than this is guessable enough to undo the pseudonymisation of small id spaces.
MIN_SECRET_CHARS = 16

_WEBHOOK_SECRET = re.compile(r"^[A-Za-z0-9_-]{1,256}$")  # what Telegram accepts as secret_token


def _webhook_secret(value: str) -> str:
    if not _WEBHOOK_SECRET.match(value):
        raise Invalid("it holds characters Telegram does not accept, or more than 256")
    return value


_LANGUAGE_CODE = re.compile(r"^[A-Za-z]{2,3}([-_][A-Za-z0-9]{1,8})*$")


def _language_code(value: str) -> str:
    if not _LANGUAGE_CODE.match(value):
        raise Invalid("it is not a language code")
    return value


_HOST = re.compile(r"^[A-Za-z0-9.:_\-\[\]]+$")


def _host(value: str) -> str:
    if not _HOST.match(value):
        raise Invalid("it is not a host name or an IP address")
    return value


def _directory(value: str) -> Path:
    path = Path(value).expanduser()
    # Relative to the project, like every other path scrollcheck uses (the runner's cwd).
    path = path if path.is_absolute() else PROJECT_ROOT / path
    if path.exists() and not path.is_dir():
        raise Invalid("it names a file, not a directory")
    return path


# --- the variables ------------------------------------------------------------------------------

# Storage and retention
DATABASE_URL = _define(
    Setting(
        "DATABASE_URL",
        _database_url,
        "",
        "SQLite at `var/scrollcheck.db`",
        "a SQLAlchemy URL such as postgresql://user:password@host:5432/scrollcheck or sqlite:////abs/path.db",
        "the database for Rasa's trackers, the summaries and the review page (SQLite or PostgreSQL)",
        "storage",
        secret=True,
    )
)
SQLITE_BUSY_MS = _define(
    Setting(
        "SCROLLCHECK_SQLITE_BUSY_MS",
        _non_negative_int,
        5000,
        "5000",
        "a whole number of milliseconds, e.g. 5000",
        "how long one SQLite statement waits for another process's lock before retrying",
        "storage",
    )
)
RETENTION_DAYS = _define(
    Setting(
        "SCROLLCHECK_RETENTION_DAYS",
        _positive_days,
        30.0,
        "30",
        "a number of days above 0, e.g. 30 or 7.5",
        "raw chat records (Rasa's trackers) older than this many days are purged, hourly by "
        "`scrollcheck run` and by `scrollcheck purge`",
        "storage",
    )
)
REDIS_URL = _define(
    Setting(
        "SCROLLCHECK_REDIS_URL",
        _url(("redis", "rediss")),
        "",
        "none (in-memory lock store)",
        "a URL such as redis://127.0.0.1:6379/0",
        "Rasa's lock store in Redis, needed when several Rasa replicas share one database",
        "storage",
        secret=True,
    )
)
VAR_DIR = _define(
    Setting(
        "SCROLLCHECK_VAR_DIR",
        _directory,
        PROJECT_ROOT / "var",
        "`var/`",
        "a directory (relative paths are taken from the project root)",
        "where `scrollcheck run` keeps logs (`log/`), the generated endpoints.yml and the default SQLite database",
        "storage",
    )
)

# Processes and front ends
RASA_PORT = _define(
    Setting(
        "SCROLLCHECK_RASA_PORT",
        _port,
        5005,
        "5005",
        "a port number (1–65535)",
        "the port `scrollcheck run` starts Rasa on (127.0.0.1)",
        "processes",
    )
)
ACTION_PORT = _define(
    Setting(
        "SCROLLCHECK_ACTION_PORT",
        _port,
        5055,
        "5055",
        "a port number (1–65535)",
        "the port `scrollcheck run` starts the action server on (127.0.0.1)",
        "processes",
    )
)
REVIEW_PORT = _define(
    Setting(
        "SCROLLCHECK_REVIEW_PORT",
        _whole(0, 65535),
        8050,
        "8050",
        "a port number (0 picks a free one)",
        "the port of the clinician review page",
        "processes",
    )
)
RASA_URL = _define(
    Setting(
        "SCROLLCHECK_RASA_URL",
        _url(("http", "https")),
        "http://127.0.0.1:5005",
        "http://127.0.0.1:5005",
        "an http:// or https:// URL",
        "where `scrollcheck console` and `scrollcheck telegram` find Rasa "
        "(`scrollcheck run` passes its own)",
        "processes",
    )
)
ACTION_URL = _define(
    Setting(
        "SCROLLCHECK_ACTION_URL",
        _url(("http", "https")),
        "http://127.0.0.1:5055/webhook",
        "http://127.0.0.1:5055/webhook",
        "an http:// or https:// URL",
        "the action server's webhook; its /health tells the gateway when custom actions are down",
        "processes",
    )
)
RASA_IN_FLIGHT = _define(
    Setting(
        "SCROLLCHECK_RASA_IN_FLIGHT",
        _whole(1, 1000),
        8,
        "8",
        "a whole number from 1 to 1000",
        "turns one front-end process sends to Rasa at once; more wait in the gateway (bot/gateway/admission.py)",
        "processes",
    )
)
LANGUAGE_CODE = _define(
    Setting(
        "SCROLLCHECK_LANGUAGE_CODE",
        _language_code,
        "",
        "none",
        "a language code such as nl, nl-BE or en-GB",
        "the language code `scrollcheck console` plays for Telegram's (reply language and help numbers)",
        "processes",
    )
)
# Liveness probes in `scrollcheck run` (bot/run/liveness.py). A service that is alive but does not
# answer is killed and restarted only after PROBE_FAILURES probes in a row each waited PROBE_TIMEOUT:
# with 5 s, 10 s and 3, about 45 s without an answer. A busy Rasa must never be taken for a hung one:
# its GET / waits on the same event loop as the turns (at most SCROLLCHECK_RASA_IN_FLIGHT of them per
# front end), and a SQLite lock can hold that loop up to the busy time (5 s). Measured (2026-12-03,
# 2 cores, turns posted straight to Rasa): GET / at most 3.3 s with 8 turns in flight, 5.9 s with
# 300. The timeout leaves room above that, and three misses in a row rule out one long pause; a
# false kill would cost every user ~20 s of fail-safe answers while Rasa reloads.
PROBE_INTERVAL = _define(
    Setting(
        "SCROLLCHECK_PROBE_INTERVAL",
        _seconds(zero_allowed=True),
        5.0,
        "5",
        "a number of seconds, 0 or more, e.g. 5 or 2.5",
        "how often `scrollcheck run` checks that each service still answers HTTP; 0 turns the checks off",
        "processes",
    )
)
PROBE_TIMEOUT = _define(
    Setting(
        "SCROLLCHECK_PROBE_TIMEOUT",
        _seconds(zero_allowed=False),
        10.0,
        "10",
        "a number of seconds above 0, e.g. 10",
        "how long one check waits for the answer",
        "processes",
    )
)
PROBE_FAILURES = _define(
    Setting(
        "SCROLLCHECK_PROBE_FAILURES",
        _whole(1, 100),
        3,
        "3",
        "a whole number from 1 to 100",
        "checks in a row without an answer after which the service counts as hung: it is killed "
        "and restarted like a service that died",
        "processes",
    )
)
RASA_TELEMETRY_ENABLED = _define(
    Setting(
        "RASA_TELEMETRY_ENABLED",
        _flag,
        False,
        "false",
        "true or false",
        "Rasa's anonymous usage telemetry, read by Rasa itself; `make` and `scrollcheck run` "
        "pass false unless the operator sets true",
        "processes",
    )
)

# Telegram
TELEGRAM_BOT_TOKEN = _define(
    Setting(
        "TELEGRAM_BOT_TOKEN",
        _text,
        "",
        "none (`make run` then chats in the console)",
        "the token @BotFather gave",
        "the bot's token; with it `make run` runs the Telegram front end",
        "telegram",
        secret=True,
    )
)
TELEGRAM_API_BASE_URL = _define(
    Setting(
        "TELEGRAM_API_BASE_URL",
        _url(("http", "https")),
        "",
        "Telegram's own (https://api.telegram.org/bot)",
        "an http:// or https:// URL such as http://127.0.0.1:8081/bot",
        "a self-hosted Bot API server (and the tests' stand-in)",
        "telegram",
    )
)
TELEGRAM_WEBHOOK_URL = _define(
    Setting(
        "TELEGRAM_WEBHOOK_URL",
        _url(("https",)),
        "",
        "none (long polling)",
        "an https:// URL (Telegram only calls HTTPS webhooks)",
        "when set, a webhook server at this public URL instead of long polling",
        "telegram",
    )
)
TELEGRAM_WEBHOOK_LISTEN = _define(
    Setting(
        "TELEGRAM_WEBHOOK_LISTEN",
        _host,
        "127.0.0.1",
        "127.0.0.1",
        "a host name or IP address",
        "the address the webhook server listens on (put a TLS proxy in front)",
        "telegram",
    )
)
TELEGRAM_WEBHOOK_PORT = _define(
    Setting(
        "TELEGRAM_WEBHOOK_PORT",
        _port,
        8443,
        "8443",
        "a port number (1–65535)",
        "the port the webhook server listens on",
        "telegram",
    )
)
TELEGRAM_WEBHOOK_SECRET = _define(
    Setting(
        "TELEGRAM_WEBHOOK_SECRET",
        _webhook_secret,
        "",
        "generated once into `.secrets/telegram-webhook.secret`",
        "1-256 characters of A-Z, a-z, 0-9, _ and -",
        "the secret token Telegram sends with every webhook call (others get 403)",
        "telegram",
        secret=True,
    )
)

# Secrets and accounts
PSEUDONYM_SECRET = _define(
    Setting(
        "SCROLLCHECK_PSEUDONYM_SECRET",
        _min_chars(MIN_SECRET_CHARS),
        "",
        "generated once into `.secrets/pseudonym.key`",
        "at least 16 characters (e.g. the content of .secrets/pseudonym.key)",
        "the HMAC key that turns chat ids into pseudonyms; changing it starts every conversation anew",
        "secrets",
        secret=True,
    )
)
REVIEW_SECRET_KEY = _define(
    Setting(
        "SCROLLCHECK_REVIEW_SECRET_KEY",
        _min_chars(MIN_SECRET_CHARS),
        "",
        "generated once into `.secrets/review-session.key`",
        "at least 16 characters",
        "the key that signs the review page's session cookies",
        "secrets",
        secret=True,
    )
)
CLINICIAN_PASSWORD = _define(
    Setting(
        "SCROLLCHECK_CLINICIAN_PASSWORD",
        _text,
        "",
        "none (asked on the terminal)",
        "a password of at least 12 characters",
        "the password `scrollcheck clinician add` sets, for scripted use",
        "secrets",
        secret=True,
    )
)
REVIEW_HOST = _define(
    Setting(
        "SCROLLCHECK_REVIEW_HOST",
        _host,
        "127.0.0.1",
        "127.0.0.1",
        "a host name or IP address",
        "the address the review page listens on",
        "review",
    )
)
REVIEW_HTTPS = _define(
    Setting(
        "SCROLLCHECK_REVIEW_HTTPS",
        _flag,
        False,
        "false",
        "true or false (also 1/0, yes/no, on/off)",
        "the review page is served over HTTPS: Secure cookies",
        "review",
    )
)
REVIEW_TRUST_PROXY = _define(
    Setting(
        "SCROLLCHECK_REVIEW_TRUST_PROXY",
        _flag,
        False,
        "false",
        "true or false (also 1/0, yes/no, on/off)",
        "trust X-Forwarded-Proto/-For from one reverse proxy in front of the review page",
        "review",
    )
)
REVIEW_LOCKOUT_FAILURES = _define(
    Setting(
        "SCROLLCHECK_REVIEW_LOCKOUT_FAILURES",
        _whole(1, 1000),
        5,
        "5",
        "a whole number from 1 to 1000",
        "failed logins for one account that lock it …",
        "review",
    )
)
REVIEW_LOCKOUT_MINUTES = _define(
    Setting(
        "SCROLLCHECK_REVIEW_LOCKOUT_MINUTES",
        _whole(1, 7 * 24 * 60),
        15,
        "15",
        "a whole number of minutes from 1 to 10080",
        "… within this many minutes, and for this many minutes",
        "review",
    )
)
REVIEW_IP_FAILURES = _define(
    Setting(
        "SCROLLCHECK_REVIEW_IP_FAILURES",
        _whole(1, 100000),
        20,
        "20",
        "a whole number from 1 to 100000",
        "failed logins from one address (any accounts) that throttle it as long",
        "review",
    )
)
REVIEW_THREADS = _define(
    Setting(
        "SCROLLCHECK_REVIEW_THREADS",
        _whole(1, 64),
        4,
        "4",
        "a whole number from 1 to 64",
        "worker threads of the review page's WSGI server",
        "review",
    )
)

# Setting up (read by make, not by Python; listed so the README has every variable)
PYTHON310 = _define(
    Setting(
        "PYTHON310",
        _text,
        "",
        "python3.10 on the PATH, else pyenv's 3.10.x",
        "the path of a Python 3.10 interpreter",
        "the interpreter `make` builds .venv with",
        "setup",
    )
)

GROUPS: Tuple[Tuple[str, str], ...] = (
    ("storage", "Storage and retention"),
    ("processes", "Processes"),
    ("telegram", "Telegram"),
    ("review", "Clinician review page"),
    ("secrets", "Secrets"),
    ("setup", "Setting up"),
)


def retention(environ: Optional[Environ] = None) -> dt.timedelta:
    """SCROLLCHECK_RETENTION_DAYS as a duration (7.5 means seven and a half days, everywhere)."""
    return dt.timedelta(days=RETENTION_DAYS.get(environ))


def check(environ: Optional[Environ] = None) -> List[str]:
    """Every bad value at once, as error messages (empty when all is well)."""
    errors = []
    for setting in ALL:
        try:
            setting.get(environ)
        except SettingError as error:
            errors.append(str(error))
    return errors


# --- documentation and `scrollcheck settings` ---------------------------------------------------

README_BEGIN = "<!-- settings table: generated by `scrollcheck settings --markdown`; a test keeps it current -->"
README_END = "<!-- end of settings table -->"


def markdown_table() -> str:
    """The README's table: every variable with its default and meaning, grouped."""
    lines = [README_BEGIN, "", "| variable | default | meaning |", "|---|---|---|"]
    for group, title in GROUPS:
        lines.append(f"| **{title}** | | |")
        for setting in (s for s in ALL if s.group == group):
            meaning = setting.meaning + (" *(never printed)*" if setting.secret else "")
            lines.append(f"| `{setting.name}` | {setting.shown_default} | {meaning} |")
    lines += ["", README_END]
    return "\n".join(lines)


def describe(environ: Optional[Environ] = None) -> List[str]:
    """One line per variable: where its value comes from, secrets shown only as set / not set."""
    lines = []
    for setting in ALL:
        if not setting.is_set(environ):
            lines.append(f"{setting.name}: {setting.shown_default.replace('`', '')} [default]")
        elif setting.secret:
            lines.append(f"{setting.name}: set (not shown)")
        else:
            lines.append(f"{setting.name}: {setting.raw(environ)}")
    return lines


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(
        prog="scrollcheck settings", description="check and show the environment settings"
    )
    parser.add_argument(
        "--markdown", action="store_true", help="print the README's table of variables"
    )
    args = parser.parse_args(argv)
    if args.markdown:
        print(markdown_table())
        return 0
    print("\n".join(describe()))
    errors = check()
    for error in errors:
        print(f"error: {error}", file=sys.stderr)
    return 2 if errors else 0
