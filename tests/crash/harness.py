"""The crash tests' stack: real Rasa + action server + SQLite, the real Telegram front end as its own
process against the stand-in Bot API, and ways to kill (SIGKILL), stop, freeze and restart each.

* `CrashStack`: tests.stack.RasaStack that remembers how it started each process, so a test can
  `kill("rasa")` (SIGKILL to its process group) and `restart("rasa")` on the same port, database and
  model. Its processes load tests/crash/inject/sitecustomize.py, which makes SQLite "full" while
  the file `full_flag` exists (a real SQLITE_FULL from SQLite's max_page_count, nothing mocked).
* `FrontEndProcess`: `python -m bot.cli telegram` (long polling) against the stand-in Bot API.
* `Chat`: one Telegram user, driven through the stand-in API; waits for what the user should see.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional

from bot.privacy.pseudonym import ENV_SECRET, Pseudonymiser
from bot.safety.replies import busy_note
from bot.telegram.inbox import INBOX_FILE
from tests.stack import PROJECT_ROOT, RasaStack, http_status
from tests.telegram.fake_bot_api import FakeBotApi, FakeUser
from tests.telegram.harness import buttons_of

SECRET = "crash-tests-pseudonym-secret-0123456789"
INJECT_DIR = Path(__file__).resolve().parent / "inject"
FULL_FLAG_ENV = "SCROLLCHECK_TEST_SQLITE_FULL_FLAG"
RESTART_TIMEOUT = 240.0
# The gateway's wait for one Rasa turn. 10 s in production; on two shared, busy cores the first
# turns after a start can take longer, and a timeout here would be a flaky test, not a finding.
RASA_TIMEOUT = 30.0

Message = Dict[str, Any]


def pseudonym_of(user: FakeUser) -> str:
    return Pseudonymiser(SECRET).pseudonym(user.id)


@dataclass
class CrashStack(RasaStack):
    args: Dict[str, List[str]] = field(default_factory=dict)

    @property
    def full_flag(self) -> Path:
        return self.workdir / "sqlite-full.flag"

    def env(self) -> Dict[str, str]:
        env = super().env()
        env["PYTHONPATH"] = str(INJECT_DIR) + os.pathsep + env["PYTHONPATH"]
        env[FULL_FLAG_ENV] = str(self.full_flag)
        return env

    def _spawn(self, name: str, args: List[str]) -> subprocess.Popen:
        self.args[name] = list(args)
        return super()._spawn(name, args)

    def process(self, name: str) -> subprocess.Popen:
        return dict(self.processes)[name]

    def kill(self, name: str) -> int:
        """SIGKILL the process (its whole group); returns its pid."""
        process = self.process(name)
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=30)
        self.processes = [(n, p) for n, p in self.processes if n != name]
        return process.pid

    def restart(self, name: str, timeout: float = RESTART_TIMEOUT) -> float:
        """Start `name` again as it was started; returns the seconds until it was healthy."""
        started = time.monotonic()
        process = super()._spawn(name, self.args[name])
        url = (
            self.rasa_url + "/" if name == "rasa" else f"http://127.0.0.1:{self.action_port}/health"
        )
        while http_status(url) != 200:
            if process.poll() is not None or time.monotonic() - started > timeout:
                log = (self.workdir / f"{name}.log").read_text(errors="replace")[-3000:]
                raise RuntimeError(f"{name} did not come back at {url}:\n{log}")
            time.sleep(0.25)
        return time.monotonic() - started

    def tracker_slots(self, pseudonym: str) -> Dict[str, Any]:
        """The slots of the stored tracker (last value wins), as Rasa will read them."""
        slots: Dict[str, Any] = {}
        with sqlite3.connect(self.db_path) as connection:
            rows = connection.execute(
                "SELECT data FROM events WHERE sender_id = ? AND type_name = 'slot' ORDER BY id",
                (pseudonym,),
            ).fetchall()
        for (data,) in rows:
            event = json.loads(data)
            slots[event["name"]] = event["value"]
        return slots

    def user_messages_stored(self, pseudonym: str) -> int:
        with sqlite3.connect(self.db_path) as connection:
            return connection.execute(
                "SELECT COUNT(*) FROM events WHERE sender_id = ? AND type_name = 'user'",
                (pseudonym,),
            ).fetchone()[0]

    def item_answers(self, pseudonym: str, topic: str) -> Dict[str, Optional[int]]:
        with sqlite3.connect(self.db_path) as connection:
            rows = connection.execute(
                "SELECT a.item_id, a.value FROM item_answers a JOIN topic_summaries t ON a.summary_pk = t.id "
                "JOIN checkins c ON t.checkin_pk = c.id WHERE c.pseudonym = ? AND t.topic = ?",
                (pseudonym, topic),
            ).fetchall()
        return dict(rows)


class FrontEndProcess:
    """`scrollcheck telegram` in its own process group, logging to a file in `workdir`."""

    def __init__(self, api: FakeBotApi, stack: CrashStack, workdir: Path) -> None:
        self.api = api
        self.stack = stack
        self.log = workdir / "telegram.log"
        self.var_dir = workdir / "front-end-var"
        self.process: Optional[subprocess.Popen] = None
        self.starts = 0

    def env(self) -> Dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("TELEGRAM_")}
        env.update(
            TELEGRAM_BOT_TOKEN=self.api.token,
            TELEGRAM_API_BASE_URL=self.api.base_url,
            DATABASE_URL=self.stack.database_url,
            PYTHONPATH=str(PROJECT_ROOT),
            RASA_TELEMETRY_ENABLED="false",
            PYTHONWARNINGS="ignore::DeprecationWarning",
            SCROLLCHECK_VAR_DIR=str(self.var_dir),  # the front end's inbox of unanswered updates
        )
        env[ENV_SECRET] = SECRET
        return env

    def start(self, timeout: float = 120.0) -> float:
        """Start it and wait for its first long poll; returns the seconds that took."""
        started = time.monotonic()
        polls = len(self.api.calls("getUpdates"))
        with open(self.log, "ab") as log:
            self.process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "bot.cli",
                    "telegram",
                    "--rasa-url",
                    self.stack.rasa_url,
                    "--action-url",
                    self.stack.action_url,
                    "--rasa-timeout",
                    str(RASA_TIMEOUT),
                ],
                cwd=PROJECT_ROOT,
                env=self.env(),
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        self.starts += 1
        process = self.process
        self.api.wait_for(
            lambda: process.poll() is not None or len(self.api.calls("getUpdates")) > polls, timeout
        )
        if process.poll() is not None:
            raise RuntimeError(
                "the front end exited:\n" + self.log.read_text(errors="replace")[-3000:]
            )
        return time.monotonic() - started

    def unanswered(self) -> int:
        """Rows in the front end's inbox (bot.telegram.inbox): fetched, not yet answered."""
        path = self.var_dir / INBOX_FILE
        if not path.exists():
            return 0
        with sqlite3.connect(path) as connection:
            return connection.execute("SELECT COUNT(*) FROM pending_updates").fetchone()[0]

    def kill(self) -> int:
        assert self.process is not None
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=30)
        return self.process.pid

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)


# --- one user ---------------------------------------------------------------------------------------


def is_busy_note(text: str) -> bool:
    return text in (busy_note("en"), busy_note("nl"))


@dataclass
class Chat:
    api: FakeBotApi
    user: FakeUser

    @property
    def chat_id(self) -> int:
        return self.user.id

    @property
    def pseudonym(self) -> str:
        return pseudonym_of(self.user)

    def messages(self) -> List[Message]:
        return self.api.bot_messages(self.chat_id)

    def texts(self, since: int = 0) -> List[str]:
        """What the user sees from `since` on, without "I'm busy, answer coming" notes."""
        return [m["text"] for m in self.messages()[since:] if not is_busy_note(m["text"])]

    def send(self, text: str) -> int:
        """Send a message; returns how many bot messages there were before it."""
        before = len(self.messages())
        self.api.send_text(self.user, text)
        return before

    def press(self, title: str) -> int:
        """Press `title` on the newest message with buttons."""
        before = len(self.messages())
        with_buttons = [m for m in self.messages() if buttons_of(m)]
        assert with_buttons, f"no buttons to press {title!r} on: {self.texts()[-3:]}"
        self.api.press(self.user, with_buttons[-1], title)
        return before

    def wait(
        self,
        since: int,
        done: Callable[[List[str]], Any],
        *,
        timeout: float = 60.0,
        quiet: float = 0.5,
    ) -> List[str]:
        """Wait until `done(texts since)` holds, then for `quiet` seconds of silence; the texts."""
        deadline = time.monotonic() + timeout
        while not done(self.texts(since)):
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"timed out after {timeout} s; the user saw: {self.texts(since)}"
                )
            time.sleep(0.05)
        count, calm_since = len(self.messages()), time.monotonic()
        while time.monotonic() - calm_since < quiet:
            time.sleep(0.05)
            if len(self.messages()) != count:
                count, calm_since = len(self.messages()), time.monotonic()
        return self.texts(since)

    def wait_for_text(self, since: int, needle: str, **kwargs: Any) -> List[str]:
        return self.wait(since, lambda texts: any(needle in t for t in texts), **kwargs)

    def wait_for_button(self, since: int, title: str, **kwargs: Any) -> List[str]:
        return self.wait(
            since,
            lambda texts: any(
                title == b["text"] for m in self.messages()[since:] for b in buttons_of(m)
            ),
            **kwargs,
        )

    def wait_for_replies(self, since: int, count: int, **kwargs: Any) -> List[str]:
        return self.wait(since, lambda texts: len(texts) >= count, **kwargs)


def question(number: int, of: int = 5) -> str:
    return f"Question {number} of {of}"


SCALE = {"Never": 1, "Rarely": 2, "Sometimes": 3, "Often": 4, "Very often": 5}


def start_comparison_checkin(chat: Chat, answers: List[str]) -> None:
    """/start, consent, 16–17, UK, "Comparing myself to others", then `answers` by button; the
    question after the last answer is then the one open."""
    since = chat.send("/start")
    chat.wait_for_button(since, "Yes, that's OK")
    for title, next_button in (
        ("Yes, that's OK", "16–17"),
        ("16–17", "UK"),
        ("UK", "Comparing myself to others"),
    ):
        since = chat.press(title)
        chat.wait_for_button(since, next_button)
    since = chat.press("Comparing myself to others")
    chat.wait_for_text(since, question(1))
    for number, title in enumerate(answers, start=1):
        since = chat.press(title)
        chat.wait_for_text(since, question(number + 1))
