"""A bug while handling a Telegram message: the log names file, line and function, not the user's words.

The real front end (`build_application` + `run`) against the stand-in Bot API and a stand-in Rasa,
logging through `scrollcheck telegram`'s own configure_logging (bot/logformat.py underneath).
The gateway has a planted bug: a lookup keyed by the message text, so the KeyError's message is
exactly what the young person typed.
"""

from __future__ import annotations

import inspect
import io
import logging
from typing import Dict, Iterator, List, Optional

import pytest

from bot.gateway import Gateway
from bot.gateway.core import _Turn
from bot.gateway.reply import Reply
from bot.safety.replies import unavailable_reply
from bot.telegram.app import configure_logging
from tests.stack import StandInRasa
from tests.telegram.fake_bot_api import FakeBotApi
from tests.telegram.harness import Conversation, distinctive_user

USER_TEXT = "my ex keeps posting about me and everyone at school laughs"


class GatewayWithABug(Gateway):
    def _read(self, turn: _Turn) -> Optional[List[Reply]]:
        answers: Dict[str, List[Reply]] = {}
        return answers[turn.text]  # THE BUG


def line_in(function: object, marker: str) -> int:
    lines, start = inspect.getsourcelines(function)  # type: ignore[arg-type]
    return start + next(i for i, line in enumerate(lines) if marker in line)


@pytest.fixture
def production_log() -> Iterator[io.StringIO]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    log = io.StringIO()
    configure_logging(
        secrets=("0:stand-in-not-a-real-token",), stream=log
    )  # as `scrollcheck telegram` does
    try:
        yield log
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)


def test_a_key_error_with_the_users_text_is_logged_with_file_and_line_only(
    production_log: io.StringIO,
    start_front_end,
    stand_in_rasa: StandInRasa,
    fake_api: FakeBotApi,
) -> None:
    gateway = GatewayWithABug(stand_in_rasa.url, action_url=stand_in_rasa.action_url, timeout=5.0)
    start_front_end(stand_in_rasa.url, gateway=gateway)
    user = distinctive_user(language_code="en-GB")
    chat = Conversation(fake_api, user)

    turn = chat.say(USER_TEXT, timeout=120)  # the first message warms the safety models up

    assert [m["text"] for m in turn] == [unavailable_reply("GB", "en")], (
        "the user still gets an answer"
    )
    log = production_log.getvalue()
    bug_line = line_in(GatewayWithABug._read, "# THE BUG")
    assert f'File "{__file__}", line {bug_line}, in _read' in log
    assert f'core.py", line {line_in(Gateway._handle, "self._read(turn)")}, in _handle' in log
    assert "\nKeyError" in log and "gateway error for " in log
    for private in (USER_TEXT, "posting about me", str(user.id), user.first_name, user.username):
        assert private not in log
