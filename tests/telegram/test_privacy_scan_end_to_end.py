"""After an end-to-end run, nothing users sent is kept where it should not be.

The real Telegram front end (logging through `scrollcheck telegram`'s own configure_logging into a
file) against the stand-in Bot API and the real Rasa + action server (tests/stack.py: their logs,
endpoints.yml and the SQLite database in the stack's work directory, this run's var/). Two young
people chat: one does a short check-in, sends a risk message and erases everything with /forget;
the other does a short check-in with typed answers and stays.

Then every log file, every table and column of the database, every file in the stack's work
directory and anything the run wrote under the project's var/ is scanned for their message texts,
Telegram ids, first and last names and usernames (tests/privacy_scan.py). Identifiers may appear
nowhere; message texts only in Rasa's `events` table, which the retention purge deletes.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Iterator, List

import pytest

from bot.privacy.pseudonym import Pseudonymiser
from bot.safety import detect
from bot.safety.replies import acuity_question, crisis_reply
from bot.telegram.app import configure_logging
from tests.privacy_scan import Needle, database_hits, file_hits, not_allowed, rows_mentioning
from tests.stack import PROJECT_ROOT, RasaStack
from tests.telegram.fake_bot_api import FakeBotApi, FakeUser
from tests.telegram.harness import Conversation, distinctive_user, last_with_buttons
from tests.telegram.test_telegram_with_rasa import CheckIn, response, texts_of

pytestmark = pytest.mark.rasa

RISK_TEXT = "honestly i want to kill myself"
FORGOTTEN_TEXTS = ["all the time tbh", RISK_TEXT]  # sent by the user who then uses /forget
KEPT_TEXTS = ["hardly ever", "i feel kinda left out lately"]  # sent by the user who stays


@pytest.fixture
def front_end_log(tmp_path: Path) -> Iterator[Path]:
    """The front end's log as `scrollcheck telegram` writes it (root handler, production formatter)."""
    path = tmp_path / "front-end.log"
    root = logging.getLogger()
    ours = logging.getLogger("bot")
    handlers, level, our_level = list(root.handlers), root.level, ours.level
    with open(path, "w", encoding="utf-8") as stream:
        configure_logging(stream=stream)
        ours.setLevel(logging.DEBUG)  # stricter than production: our own loggers at DEBUG too
        try:
            yield path
        finally:
            ours.setLevel(our_level)
            root.handlers[:] = handlers
            root.setLevel(level)


@pytest.fixture
def running(
    front_end_log: Path, start_front_end, rasa_stack: RasaStack, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv(
        "DATABASE_URL", rasa_stack.database_url
    )  # the gateway's erasure, same database
    return start_front_end(
        rasa_stack.rasa_url, action_url=rasa_stack.action_url, timeout=20.0, busy_after=None
    )


def identifiers(user: FakeUser, who: str) -> List[Needle]:
    return [
        Needle(f"{who}'s Telegram id", str(user.id), True),
        Needle(f"{who}'s first name", user.first_name, True),
        Needle(f"{who}'s last name", user.last_name or "", True),
        Needle(f"{who}'s username", user.username or "", True),
    ]


def short_check_in(chat: Conversation, age: str, topic: str, answer: str) -> CheckIn:
    checkin = CheckIn(chat)
    turn = checkin.start()
    turn = checkin.press(turn, "Yes, that's OK")
    turn = checkin.press(turn, age)
    turn = checkin.press(turn, "UK")
    turn = checkin.press(turn, topic)
    assert "Question 1 of 5" in "\n".join(texts_of(turn))
    turn = checkin.say(answer)
    assert "Question 2 of 5" in "\n".join(texts_of(turn)), texts_of(turn)
    return checkin


def test_no_text_id_or_name_outside_the_purged_tracker_table(
    running,
    front_end_log: Path,
    fake_api: FakeBotApi,
    rasa_stack: RasaStack,
    pseudonymiser: Pseudonymiser,
) -> None:
    started = time.time()
    leaving = Conversation(fake_api, distinctive_user(language_code="en-GB"))
    staying = Conversation(fake_api, distinctive_user(language_code="en-GB"))

    # 1. the one who leaves: a short check-in, a risk message, then /forget
    checkin = short_check_in(leaving, "16–17", "Fear of missing out", FORGOTTEN_TEXTS[0])
    turn = checkin.say(RISK_TEXT, until=acuity_question().text)
    crisis = crisis_reply(detect(RISK_TEXT), "GB").messages
    assert texts_of(turn)[: len(crisis)] == list(crisis), "crisis resources first, in that turn"
    checkin.press(turn, "No")
    turn = leaving.say("/forget")
    assert response("utter_ask_forget_confirmed") in texts_of(turn)
    turn = leaving.press(last_with_buttons(turn), "Yes, erase everything")
    assert response("utter_forget_done") in texts_of(turn)

    # 2. the one who stays: a short check-in with typed answers
    checkin = short_check_in(staying, "13–15", "Comparing myself to others", KEPT_TEXTS[0])
    checkin.say(KEPT_TEXTS[1])

    needles = [
        *identifiers(leaving.user, "the leaver"),
        *identifiers(staying.user, "the stayer"),
        Needle("the bot token", fake_api.token, True),
        *(Needle(f"message {text!r}", text, False) for text in FORGOTTEN_TEXTS + KEPT_TEXTS),
    ]
    var = PROJECT_ROOT / "var"
    written_in_var = (
        [p for p in var.rglob("*") if p.is_file() and p.stat().st_mtime >= started]
        if var.exists()
        else []
    )
    files = (
        sorted(p for p in rasa_stack.workdir.rglob("*") if p.is_file())
        + [front_end_log]
        + written_in_var
    )
    logs = [p for p in files if p.suffix == ".log"]
    assert {p.name for p in logs} >= {"actions.log", "rasa.log", "front-end.log"}, [
        p.name for p in files
    ]
    assert rasa_stack.db_path in files and rasa_stack.workdir / "endpoints.yml" in files

    in_tables = database_hits(rasa_stack.db_path, needles)
    in_files = file_hits(files, needles)
    # The scan sees what it should: the stayer's words are in Rasa's tracker (until the purge).
    stayer = pseudonymiser.pseudonym(staying.user.id)
    assert rows_mentioning(rasa_stack.db_path, stayer).get("events")
    assert {hit.needle.value for hit in in_tables if hit.table == "events"} >= set(KEPT_TEXTS)
    database_files = [p for p in files if p.name.startswith(rasa_stack.db_path.name)]
    assert file_hits(database_files, [Needle("probe", KEPT_TEXTS[1], True)]), (
        "the byte scan reads the database files"
    )
    assert front_end_log.stat().st_size > 0

    bad = not_allowed(in_tables + in_files)
    assert bad == [], "found outside the purged tracker table:\n" + "\n".join(map(str, bad))
    print(
        f"\nscanned {len(files)} files ({len(logs)} logs, {sum(p.stat().st_size for p in files)} bytes) and every "
        f"table for {len(needles)} needles; allowed hits in events: "
        f"{sorted((h.needle.label, h.count) for h in in_tables if h.table == 'events')}"
    )
