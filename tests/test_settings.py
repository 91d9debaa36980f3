"""bot/settings.py: one place for every environment variable, one meaning for the retention, clear
errors that never repeat a secret, and a README table that matches the code."""

from __future__ import annotations

import datetime as dt
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Dict, List

import pytest

from bot import settings
from bot.settings import SettingError
from tests.stack import PROJECT_ROOT

DAY = 24 * 3600


def scrollcheck(*args: str, env: Dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", *args],
        cwd=PROJECT_ROOT,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


# --- the retention: one parser, one meaning --------------------------------------------------------


@pytest.mark.parametrize("text, days", [("7.5", 7.5), ("30", 30.0), (" 30 ", 30.0), ("", 30.0)])
def test_retention_days(text: str, days: float) -> None:
    assert settings.retention({"SCROLLCHECK_RETENTION_DAYS": text}) == dt.timedelta(days=days)


@pytest.mark.parametrize(
    "text, problem",
    [
        ("0", "not above zero"),
        ("-1", "not above zero"),
        ("abc", "not a number"),
        ("inf", "not a finite number"),
    ],
)
def test_a_bad_retention_is_a_clear_error(text: str, problem: str) -> None:
    with pytest.raises(SettingError) as error:
        settings.retention({"SCROLLCHECK_RETENTION_DAYS": text})
    message = str(error.value)
    assert message.startswith(f"SCROLLCHECK_RETENTION_DAYS={text!r} is not valid: it is {problem}")
    assert message.endswith("expected a number of days above 0, e.g. 30 or 7.5")


def test_scrollcheck_purge_reads_7_5_days_as_the_hourly_purge_does(tmp_path: Path) -> None:
    from bot.storage.db import dispose_engines
    from bot.storage.migrate import upgrade
    from tests.storage.rasa_trackers import count_events, dispose, rasa_sql_store, save_conversation

    url = f"sqlite:///{tmp_path / 'retention.db'}"
    upgrade(url)
    store = rasa_sql_store(url, tmp_path)
    save_conversation(store, "eight-days", age_seconds=8 * DAY)
    save_conversation(store, "seven-days", age_seconds=7 * DAY)
    dispose(store)
    dispose_engines()

    result = scrollcheck("purge", env={"DATABASE_URL": url, "SCROLLCHECK_RETENTION_DAYS": "7.5"})
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("deleted 7 tracker event(s) older than 7.5d")
    assert count_events(url, "eight-days") == 0 and count_events(url, "seven-days") == 7, (
        "7.5 means seven and a half days, not 30 (what `scrollcheck purge` silently made of it before)"
    )


@pytest.mark.parametrize("command", [["purge"], ["run", "--front-end", "none"]])
def test_a_bad_retention_stops_the_command_before_it_starts_anything(
    command: List[str], tmp_path: Path
) -> None:
    result = scrollcheck(
        *command,
        env={
            "SCROLLCHECK_RETENTION_DAYS": "abc",
            "SCROLLCHECK_VAR_DIR": str(tmp_path),
            "DATABASE_URL": f"sqlite:///{tmp_path / 'untouched.db'}",
        },
    )
    assert result.returncode == 2
    assert (
        "SCROLLCHECK_RETENTION_DAYS='abc' is not valid: it is not a number; expected a number of days"
        in result.stderr
    )
    assert list(tmp_path.iterdir()) == [], "nothing was started, no database or log created"


# --- errors: name, problem, expectation, and never a secret ----------------------------------------


@pytest.mark.parametrize(
    "name, value, problem",
    [
        ("SCROLLCHECK_RASA_PORT", "80a", "it is not a whole number"),
        ("SCROLLCHECK_ACTION_PORT", "70000", "it is outside 1–65535"),
        ("SCROLLCHECK_REVIEW_THREADS", "65", "it is outside 1–64"),
        ("SCROLLCHECK_SQLITE_BUSY_MS", "-5", "it is not a whole number of 0 or more"),
        ("SCROLLCHECK_REVIEW_HTTPS", "maybe", "it is neither true nor false"),
        ("SCROLLCHECK_RASA_URL", "127.0.0.1:5005", "its scheme is 127.0.0.1"),
        ("TELEGRAM_WEBHOOK_URL", "http://bot.example.org/hook", "its scheme is http"),
        ("SCROLLCHECK_LANGUAGE_CODE", "dutch please", "it is not a language code"),
    ],
)
def test_a_bad_value_names_the_variable_the_problem_and_what_is_expected(
    name: str, value: str, problem: str
) -> None:
    setting = next(s for s in settings.ALL if s.name == name)
    with pytest.raises(SettingError) as error:
        setting.get({name: value})
    assert (
        str(error.value) == f"{name}={value!r} is not valid: {problem}; expected {setting.expected}"
    )


@pytest.mark.parametrize(
    "name, value",
    [
        ("DATABASE_URL", "mysql://scrollcheck:pw-do-not-print@db.example/x"),
        ("DATABASE_URL", "postgresql://scrollcheck:pw-do-not-print@db.example:port/x"),
        ("SCROLLCHECK_REDIS_URL", "http://:pw-do-not-print@127.0.0.1:6379/0"),
        ("SCROLLCHECK_PSEUDONYM_SECRET", "pw-do-not-print"),
        ("SCROLLCHECK_REVIEW_SECRET_KEY", "pw-do-not-print"),
        ("TELEGRAM_WEBHOOK_SECRET", "pw do not print"),
    ],
)
def test_errors_about_secrets_do_not_repeat_them(name: str, value: str) -> None:
    setting = next(s for s in settings.ALL if s.name == name)
    assert setting.secret
    with pytest.raises(SettingError) as error:
        setting.get({name: value})
    message = str(error.value)
    assert message.startswith(f"{name} is not valid: ") and "(the value is not shown)" in message
    assert "do-not-print" not in message and "do not print" not in message


def test_flags_and_blank_values() -> None:
    for text, expected in [
        ("1", True),
        ("yes", True),
        ("ON", True),
        ("0", False),
        ("off", False),
        ("", False),
        ("  ", False),
    ]:
        assert settings.REVIEW_HTTPS.get({"SCROLLCHECK_REVIEW_HTTPS": text}) is expected
    assert settings.RASA_PORT.get({"SCROLLCHECK_RASA_PORT": " "}) == 5005, "blank counts as unset"


def test_scrollcheck_settings_lists_sources_and_hides_secrets() -> None:
    result = scrollcheck(
        "settings",
        env={
            "TELEGRAM_BOT_TOKEN": "123:token-do-not-print",
            "SCROLLCHECK_RASA_PORT": "6005",
            "SCROLLCHECK_REVIEW_TRUST_PROXY": "perhaps",
        },
    )
    assert result.returncode == 2
    assert (
        "TELEGRAM_BOT_TOKEN: set (not shown)" in result.stdout
        and "token-do-not-print" not in result.stdout + result.stderr
    )
    assert (
        "SCROLLCHECK_RASA_PORT: 6005" in result.stdout
        and "SCROLLCHECK_RETENTION_DAYS: 30 [default]" in result.stdout
    )
    assert "SCROLLCHECK_REVIEW_TRUST_PROXY='perhaps' is not valid" in result.stderr


def test_the_database_defaults_to_sqlite_under_the_var_dir(tmp_path: Path) -> None:
    code = "from bot.storage.db import database_url; print(database_url())"
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    out = subprocess.run(
        [sys.executable, "-c", code],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        env={**env, "SCROLLCHECK_VAR_DIR": str(tmp_path)},
    )
    assert out.stdout.strip() == f"sqlite:///{tmp_path / 'scrollcheck.db'}", out.stderr


# --- one place: no module reads the environment itself ---------------------------------------------

ENV_ACCESS = re.compile(r"os\.environ\b[^\n]{0,20}|\bgetenv\b|\benviron\.get\(")
# Passing the environment on to a child, or setting a default for a third-party library, is not
# reading a setting.
ALLOWED = re.compile(r"^os\.environ\.setdefault\(|^os\.environ\)|^os\.environ,")


def python_files() -> List[Path]:
    return sorted(p for root in ("bot", "actions") for p in (PROJECT_ROOT / root).rglob("*.py"))


def test_no_module_reads_the_environment_but_bot_settings() -> None:
    offenders = []
    for path in python_files():
        if path == PROJECT_ROOT / "bot" / "settings.py":
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            for match in ENV_ACCESS.finditer(line):
                if (
                    not ALLOWED.match(match.group(0))
                    and "dict(os.environ" not in line
                    and "**os.environ" not in line
                ):
                    offenders.append(f"{path.relative_to(PROJECT_ROOT)}:{number}: {line.strip()}")
    assert offenders == [], "read these through bot/settings.py:\n" + "\n".join(offenders)


def test_every_variable_named_in_the_code_is_a_setting() -> None:
    known = {s.name for s in settings.ALL}
    named = {}
    for path in python_files():
        for name in re.findall(
            r"""["']((?:SCROLLCHECK|TELEGRAM)_[A-Z0-9_]+)["']""", path.read_text(encoding="utf-8")
        ):
            named.setdefault(name, str(path.relative_to(PROJECT_ROOT)))
    unknown = {name: where for name, where in named.items() if name not in known}
    assert unknown == {}, "define these in bot/settings.py"


def test_the_readme_table_is_the_settings_module() -> None:
    readme = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
    assert settings.markdown_table() in readme, (
        "run `scrollcheck settings --markdown` and paste it into the README"
    )
    # and every row is a variable the code defines, with its default
    rows = re.findall(r"^\| `([A-Z0-9_]+)` \| ([^|]*) \|", readme, re.MULTILINE)
    assert {name for name, _ in rows} == {s.name for s in settings.ALL}
    for name, default in rows:
        assert default.strip() == next(s.shown_default for s in settings.ALL if s.name == name)
