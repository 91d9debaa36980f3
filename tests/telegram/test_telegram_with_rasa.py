"""The real front end against the stand-in Bot API AND the real Rasa + action server.

Texts are read from domain.yml, the screening YAML and bot.safety, so the dialogue's wording can
change without breaking these tests; what they check is what a young person would see.
"""

from __future__ import annotations

import sqlite3
import time
from functools import lru_cache
from pathlib import Path
from typing import Any, Dict, Iterable, List, Optional

import pytest
import yaml

from bot.privacy.pseudonym import Pseudonymiser
from bot.safety import detect
from bot.safety.replies import (
    acuity_question,
    crisis_reply,
    disclosure_reminder,
    resources_text,
    unavailable_reply,
)
from bot.telegram import texts
from tests.privacy_scan import rows_mentioning
from tests.stack import PROJECT_ROOT, RasaStack, closed_port_url, newest_model
from tests.telegram.fake_bot_api import FakeBotApi
from tests.telegram.harness import (
    Conversation,
    buttons_of,
    distinctive_user,
    last_with_buttons,
    wait_until,
)

pytestmark = pytest.mark.rasa

RISK_TEXT = "honestly i want to kill myself"
COUNTRY = "GB"


@lru_cache(maxsize=None)
def response(name: str) -> str:
    domain = yaml.safe_load((PROJECT_ROOT / "domain.yml").read_text(encoding="utf-8"))
    return domain["responses"][name][0]["text"]


@lru_cache(maxsize=None)
def topic_content(topic: str) -> Dict[str, Any]:
    return yaml.safe_load(
        (PROJECT_ROOT / "data" / "screening" / f"{topic}.yml").read_text(encoding="utf-8")
    )


def band_feedback(topic: str, score: float) -> str:
    for band in topic_content(topic)["bands"]:
        if score <= band["upto"]:
            return band["feedback"]["en"]
    raise AssertionError("no band")


def texts_of(messages: Iterable[Dict[str, Any]]) -> List[str]:
    return [m["text"] for m in messages]


def joined(messages: Iterable[Dict[str, Any]]) -> str:
    return "\n".join(texts_of(messages))


@pytest.fixture
def chat(fake_api: FakeBotApi) -> Conversation:
    return Conversation(fake_api, distinctive_user(language_code="en-GB"))


@pytest.fixture
def running(start_front_end, rasa_stack: RasaStack, monkeypatch: pytest.MonkeyPatch):
    # The gateway erases through bot.storage, in the same database the Rasa stack uses.
    monkeypatch.setenv("DATABASE_URL", rasa_stack.database_url)
    # Whole turns are asserted here; the "busy" note is tested against a stand-in Rasa instead.
    return start_front_end(
        rasa_stack.rasa_url, action_url=rasa_stack.action_url, timeout=20.0, busy_after=None
    )


class CheckIn:
    """Drives a check-in through the bot's own buttons (or typed answers), asserting what it sees."""

    def __init__(self, chat: Conversation) -> None:
        self.chat = chat
        self.seen: List[Dict[str, Any]] = []

    def turn(self, messages: List[Dict[str, Any]]) -> List[Dict[str, Any]]:
        self.seen += messages
        return messages

    def start(self) -> List[Dict[str, Any]]:
        return self.turn(self.chat.say("/start"))

    def press(self, messages: List[Dict[str, Any]], title: str) -> List[Dict[str, Any]]:
        question = last_with_buttons(messages)
        assert question is not None, f"expected buttons after: {texts_of(messages)}"
        assert title in [b["text"] for b in buttons_of(question)], [
            b["text"] for b in buttons_of(question)
        ]
        return self.turn(self.chat.press(question, title))

    def say(self, text: str, until: Optional[str] = None) -> List[Dict[str, Any]]:
        return self.turn(self.chat.say(text, until=until))


def assert_question(messages: List[Dict[str, Any]], number: int, of: int = 5) -> None:
    assert f"Question {number} of {of}" in joined(messages), texts_of(messages)


# --- a whole check-in -----------------------------------------------------------------------------


def test_full_check_in_through_buttons(
    running, chat: Conversation, rasa_stack: RasaStack, pseudonymiser: Pseudonymiser
) -> None:
    checkin = CheckIn(chat)
    turn = checkin.start()
    assert response("utter_disclosure") in texts_of(turn)
    turn = checkin.press(turn, "Yes, that's OK")
    turn = checkin.press(turn, "16–17")
    turn = checkin.press(turn, "UK")
    turn = checkin.press(turn, "Comparing myself to others")
    for number in range(1, 6):
        assert_question(turn, number)
        assert [b["text"] for b in buttons_of(last_with_buttons(turn))][:5] == [
            "Never",
            "Rarely",
            "Sometimes",
            "Often",
            "Very often",
        ]
        turn = checkin.press(turn, "Often")
    assert band_feedback("comparison", 4.0) in joined(turn)
    turn = checkin.press(turn, "Yes, share it")
    assert response("utter_share_yes") in texts_of(turn)
    assert resources_text(COUNTRY) in joined(turn), "the end shows where to get help for the UK"
    assert response("utter_goodbye") in texts_of(turn)
    # Every pressed keyboard was removed; no keyboard is left live at the end.
    assert all(
        not buttons_of(chat.api.message(chat.chat_id, m["message_id"])) for m in checkin.seen
    )
    pseudonym = pseudonymiser.pseudonym(chat.user.id)
    with sqlite3.connect(rasa_stack.db_path) as connection:
        stored = connection.execute(
            "SELECT c.shared, c.country, t.topic, t.band FROM checkins c "
            "JOIN topic_summaries t ON t.checkin_pk = c.id WHERE c.pseudonym = ?",
            (pseudonym,),
        ).fetchall()
    assert stored == [(1, COUNTRY, "comparison", "high")], (
        "the shared summary is stored under the pseudonym"
    )


def test_full_check_in_through_free_text(running, chat: Conversation) -> None:
    checkin = CheckIn(chat)
    checkin.say("hi")
    assert response("utter_ask_consent") in joined(checkin.seen)
    assert response("utter_ask_age_band") in joined(checkin.say("yes thats ok"))
    assert response("utter_ask_country") in joined(checkin.say("i'm 16"))
    assert response("utter_ask_topics") in joined(checkin.say("uk"))
    turn = checkin.say("fear of missing out")
    for number, answer in enumerate(
        ["sometimes", "often", "all the time", "rarely", "often"], start=1
    ):
        assert_question(turn, number)
        turn = checkin.say(answer)
    score = (3 + 4 + 5 + 2 + 4) / 5
    assert band_feedback("fomo", score) in joined(turn)
    turn = checkin.say("no keep it private")
    assert response("utter_share_no") in texts_of(turn)
    assert response("utter_goodbye") in texts_of(turn)


def test_risk_message_mid_check_in_gets_crisis_resources_in_that_turn(
    running, chat: Conversation, production_logging
) -> None:
    checkin = CheckIn(chat)
    turn = checkin.start()
    turn = checkin.press(turn, "Yes, that's OK")
    turn = checkin.press(turn, "18–25")
    turn = checkin.press(turn, "UK")
    turn = checkin.press(turn, "Cyberbullying")
    turn = checkin.press(turn, "Sometimes")
    assert_question(turn, 2)
    turn = checkin.say(RISK_TEXT, until=acuity_question().text)
    expected = crisis_reply(detect(RISK_TEXT), COUNTRY)
    assert texts_of(turn)[: len(expected.messages)] == list(expected.messages), (
        "crisis first, in that turn"
    )
    assert texts_of(turn).count(expected.messages[0]) == 1, (
        "one crisis reply: the gateway's, not Rasa's too"
    )
    assert texts_of(turn).count(acuity_question().text) == 1
    assert "Question" not in joined(turn), "the check-in waits"
    acuity = last_with_buttons(turn)
    assert [b["callback_data"] for b in buttons_of(acuity)] == ["/affirm", "/deny"], (
        "Rasa's own acuity form asks"
    )
    assert "rasa unavailable" not in production_logging.text, (
        "Rasa's answer after the fast path is no failure"
    )
    turn = checkin.press(turn, "No")
    turn = checkin.say("/start")
    assert_question(turn, 2)  # resumed where it was


# --- commands -------------------------------------------------------------------------------------


def test_every_command(
    running, chat: Conversation, rasa_stack: RasaStack, pseudonymiser: Pseudonymiser
) -> None:
    pseudonym = pseudonymiser.pseudonym(chat.user.id)
    assert response("utter_disclosure") in texts_of(chat.say("/start"))
    assert texts_of(chat.say("/help")) == [texts.text("help", "en")]
    assert resources_text(COUNTRY) in texts_of(chat.say("/resources"))
    assert response("utter_privacy") in texts_of(chat.say("/privacy"))
    stopped = texts_of(chat.say("/stop"))
    assert response("utter_paused") in stopped or response("utter_stopped_idle") in stopped
    assert rows_mentioning(rasa_stack.db_path, pseudonym).get("events")
    turn = chat.say("/forget")
    assert response("utter_ask_forget_confirmed") in texts_of(turn)
    turn = chat.press(last_with_buttons(turn), "Yes, erase everything")
    assert response("utter_forget_done") in texts_of(turn)
    wait_until(lambda: not rows_mentioning(rasa_stack.db_path, pseudonym), timeout=15)
    assert rows_mentioning(rasa_stack.db_path, pseudonym) == {}, (
        "/forget leaves nothing in any table"
    )


def test_each_non_text_kind_with_rasa_running(
    running, chat: Conversation, rasa_stack: RasaStack
) -> None:
    chat.say("/start")
    for kind in ["sticker", "photo", "voice", "video", "document", "location", "contact"]:
        before = len(chat.messages())
        chat.api.send_non_text(chat.user, kind)
        assert texts_of(chat.api.wait_for_turn(chat.chat_id, before)) == [
            texts.text("non_text", "en")
        ], kind
    # None of that disturbed the conversation: the consent question is still the live one.
    turn = chat.press(last_with_buttons(chat.messages()), "Yes, that's OK")
    assert response("utter_ask_age_band") in joined(turn)


# --- concurrency and Telegram errors ----------------------------------------------------------------


def test_twenty_chats_at_once_keep_per_chat_order(running, fake_api: FakeBotApi) -> None:
    users = [distinctive_user(language_code="en-GB") for _ in range(20)]
    commands = ["/privacy", "/help", "/resources", "/help"]
    for command in commands:
        for user in users:
            fake_api.send_command(user, command)
    privacy, help_text, resources = (
        response("utter_privacy"),
        texts.text("help", "en"),
        resources_text(COUNTRY),
    )

    def kinds(user) -> List[str]:
        labels = []
        for text in fake_api.texts(user.id):
            if text == privacy:
                labels.append("privacy")
            elif text == help_text:
                labels.append("help")
            elif text == resources:
                labels.append("resources")
        return labels

    wait_until(lambda: all(len(kinds(u)) >= 4 for u in users), timeout=120)
    for user in users:
        assert kinds(user) == ["privacy", "help", "resources", "help"], (
            "the local /help never overtakes Rasa"
        )


def test_429_from_telegram_mid_conversation(
    running, chat: Conversation, fake_api: FakeBotApi
) -> None:
    fake_api.fail_next("sendMessage", status=429, retry_after=1)
    turn = chat.say("/start")
    assert response("utter_disclosure") == texts_of(turn)[0], "nothing lost or reordered"
    assert response("utter_ask_consent") in texts_of(turn)
    statuses = [c.status for c in fake_api.calls("sendMessage")]
    assert statuses[0] == 429 and statuses.count(429) == 1


# --- Rasa down --------------------------------------------------------------------------------------


def test_rasa_down_fail_safe_through_telegram(start_front_end, chat: Conversation) -> None:
    start_front_end(closed_port_url(), timeout=5.0, busy_after=None)
    turn = chat.say("hey")
    assert unavailable_reply(COUNTRY) in texts_of(turn)
    turn = chat.say(RISK_TEXT, until=acuity_question().text)
    expected = crisis_reply(detect(RISK_TEXT), COUNTRY)
    assert texts_of(turn)[: len(expected.messages)] == list(expected.messages)


@pytest.fixture(scope="module")
def rasa_without_actions(tmp_path_factory: pytest.TempPathFactory):
    """A real Rasa whose action server is down (its endpoint is a closed port)."""
    model = newest_model()
    if model is None:
        pytest.fail("no trained Rasa model in models/: run `make train`")
    stack = RasaStack(
        workdir=tmp_path_factory.mktemp("rasa-no-actions"),
        model=model,
        with_action_server=False,
        action_url_override=closed_port_url() + "/webhook",
    )
    stack.start()
    try:
        yield stack
    finally:
        stack.stop()


def test_action_server_down_fail_safe_through_telegram(
    start_front_end, rasa_without_actions, chat: Conversation
) -> None:
    start_front_end(
        rasa_without_actions.rasa_url,
        action_url=rasa_without_actions.action_url,
        timeout=20.0,
        busy_after=None,
    )
    turn = chat.say("hi")  # Rasa answers [] when its custom actions cannot run
    assert unavailable_reply(COUNTRY) in texts_of(turn)
    assert disclosure_reminder() in texts_of(turn), "the gateway discloses when Rasa could not"
    turn = chat.say(RISK_TEXT, until=acuity_question().text)
    expected = crisis_reply(detect(RISK_TEXT), COUNTRY)
    assert texts_of(turn)[: len(expected.messages)] == list(expected.messages)
    assert texts_of(turn).count(acuity_question().text) == 1, "the fail-safe asks the follow-up"


# --- nothing identifying anywhere -----------------------------------------------------------------


def test_no_telegram_id_name_or_username_in_any_file_log_or_table(
    running,
    chat: Conversation,
    fake_api: FakeBotApi,
    rasa_stack: RasaStack,
    production_logging,
    tmp_path_factory: pytest.TempPathFactory,
    pseudonymiser: Pseudonymiser,
) -> None:
    started = time.time()
    user = chat.user
    # A conversation that touches every path: check-in, free text, a risk message, non-text
    # messages (a contact carries a third person's names and number), an edit, commands, a group.
    checkin = CheckIn(chat)
    turn = checkin.start()
    turn = checkin.press(turn, "Yes, that's OK")
    turn = checkin.press(turn, "13–15")
    turn = checkin.say("uk")
    turn = checkin.press(turn, "All three")
    turn = checkin.press(turn, "Often")
    # (The user never types their own names: text a user types is theirs to share, and Rasa keeps
    # it in the tracker until the retention purge; the point here is what Telegram sends beside it.)
    original = send_and_wait(chat, lambda: fake_api.send_text(user, "i feel kinda left out lately"))
    checkin.say(RISK_TEXT)
    send_and_wait(chat, lambda: fake_api.send_non_text(user, "contact"))
    send_and_wait(chat, lambda: fake_api.send_non_text(user, "photo", caption="me at school"))
    send_and_wait(chat, lambda: fake_api.edit_text(user, original, "edited"))
    checkin.say("/privacy")
    fake_api.send_group_text(user, -100987654321, "hi group")
    wait_until(lambda: -100987654321 in fake_api.left_chats)
    checkin.say("/stop")

    pseudonym = pseudonymiser.pseudonym(user.id)
    assert rows_mentioning(rasa_stack.db_path, pseudonym).get("events"), (
        "the scan looks at the right database"
    )
    forbidden = {
        "telegram id": str(user.id),
        "first name": user.first_name,
        "last name": user.last_name,
        "username": user.username,
        "contact first name": "Contactina",
        "contact phone": "+31612345678",
        "bot token": fake_api.token,
    }
    identifying_in_db = {k: v for k, v in forbidden.items() if k != "bot token"}
    # 1. every database table, every column
    for label, value in identifying_in_db.items():
        assert rows_mentioning(rasa_stack.db_path, value) == {}, f"{label} found in the database"
    # 2. every file under the temp dirs (the stack's database, WAL, endpoints and logs included)
    #    and anything the test run wrote in the project (var/, .secrets/, ...)
    roots = [Path(tmp_path_factory.getbasetemp())]
    project_files = [
        p
        for p in PROJECT_ROOT.rglob("*")
        if p.is_file() and not _excluded(p) and p.stat().st_mtime >= started
    ]
    files = [p for root in roots for p in root.rglob("*") if p.is_file()] + project_files
    assert any(p.suffix == ".log" for p in files) and any(p.name.endswith(".db") for p in files)
    for path in files:
        data = path.read_bytes()
        for label, value in forbidden.items():
            assert value.encode() not in data, f"{label} found in {path}"
    # 3. every log record of this process (the front end at its production levels)
    for record in production_logging.records:
        line = record.getMessage() + repr(record.args) + (record.exc_text or "")
        for label, value in forbidden.items():
            assert value not in line, f"{label} found in a log record of {record.name}"


def send_and_wait(chat: Conversation, send) -> Dict[str, Any]:
    before = len(chat.messages())
    update = send()
    chat.api.wait_for_turn(chat.chat_id, before)
    return update


def _excluded(path: Path) -> bool:
    parts = path.relative_to(PROJECT_ROOT).parts
    return parts[0] in {".git", ".venv", "models", ".pytest_cache"} or "__pycache__" in parts
