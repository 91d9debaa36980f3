"""Runs the real Telegram front end (build_application + run, as `scrollcheck telegram` does) in a
thread with its own event loop, against the stand-in Bot API. Tests drive it only through the
stand-in, exactly as Telegram users would."""

from __future__ import annotations

import asyncio
import random
import threading
import time
from dataclasses import dataclass
from typing import Any, Dict, List, Optional

from telegram.ext import Application

from bot.gateway import Gateway
from bot.privacy.pseudonym import Pseudonymiser
from bot.telegram.app import TelegramSettings, build_application, run
from bot.telegram.handlers import TelegramFrontEnd
from tests.telegram.fake_bot_api import FakeBotApi, FakeUser


class FrontEndThread:
    def __init__(
        self, settings: TelegramSettings, gateway: Gateway, pseudonymiser: Pseudonymiser
    ) -> None:
        self.settings = settings
        self.gateway = gateway
        self.pseudonymiser = pseudonymiser
        self.application: Optional[Application] = None
        self.loop: Optional[asyncio.AbstractEventLoop] = None
        self.error: Optional[BaseException] = None
        self._thread: Optional[threading.Thread] = None

    @property
    def front_end(self) -> TelegramFrontEnd:
        assert self.application is not None
        return self.application.bot_data["front_end"]

    def start(self) -> "FrontEndThread":
        built = threading.Event()

        def target() -> None:
            self.loop = asyncio.new_event_loop()
            asyncio.set_event_loop(self.loop)
            try:
                self.application = build_application(
                    self.settings, self.gateway, self.pseudonymiser
                )
                built.set()
                run(self.application, self.settings, handle_signals=False, poll_timeout=1)
            except BaseException as exc:  # surfaced by stop()
                self.error = exc
                built.set()

        self._thread = threading.Thread(target=target, name="telegram-front-end", daemon=True)
        self._thread.start()
        built.wait(30)
        return self

    def stop(self) -> None:
        if self._thread is None:
            return
        if self.loop is not None and self.application is not None and not self.loop.is_closed():
            self.loop.call_soon_threadsafe(self.application.stop_running)
        self._thread.join(60)
        assert not self._thread.is_alive(), "the front end did not stop within 60 s"
        self._thread = None
        if self.error is not None:
            raise self.error


_used_ids: set = set()


def distinctive_user(language_code: Optional[str] = "en-GB") -> FakeUser:
    """A user whose id and names are random and unusual, so a scan can find any copy of them."""
    while True:
        user_id = random.randint(6_000_000_000, 6_999_999_999)
        if user_id not in _used_ids:
            _used_ids.add(user_id)
            break
    tag = f"{random.randint(0, 16**6):06x}"
    return FakeUser(
        id=user_id,
        first_name=f"Zephyrine{tag}",
        last_name=f"Quillfeather{tag}",
        username=f"zq_handle_{tag}",
        language_code=language_code,
    )


@dataclass
class Conversation:
    """One user's side of a chat through the stand-in Bot API."""

    api: FakeBotApi
    user: FakeUser

    @property
    def chat_id(self) -> int:
        return self.user.id

    def messages(self) -> List[Dict[str, Any]]:
        return self.api.bot_messages(self.chat_id)

    def say(
        self, text: str, *, quiet: float = 0.4, timeout: float = 30.0, until: Optional[str] = None
    ) -> List[Dict[str, Any]]:
        """Send `text`; the bot's messages of that turn. A safety reply comes before Rasa's part
        of the turn, so `until` (a text) waits for that later part too."""
        before = len(self.messages())
        self.api.send_text(self.user, text)
        return self._turn(before, quiet, timeout, until)

    def press(
        self,
        message: Dict[str, Any],
        title: str,
        *,
        quiet: float = 0.4,
        timeout: float = 30.0,
        until: Optional[str] = None,
    ) -> List[Dict[str, Any]]:
        before = len(self.messages())
        self.api.press(self.user, message, title)
        return self._turn(before, quiet, timeout, until)

    def _turn(
        self, before: int, quiet: float, timeout: float, until: Optional[str]
    ) -> List[Dict[str, Any]]:
        if until is not None:
            wait_until(
                lambda: until in [m["text"] for m in self.messages()[before:]], timeout=timeout
            )
        return self.api.wait_for_turn(self.chat_id, before, quiet=quiet, timeout=timeout)


def buttons_of(message: Dict[str, Any]) -> List[Dict[str, str]]:
    return [
        b for row in (message.get("reply_markup") or {}).get("inline_keyboard", []) for b in row
    ]


def last_with_buttons(messages: List[Dict[str, Any]]) -> Optional[Dict[str, Any]]:
    for message in reversed(messages):
        if buttons_of(message):
            return message
    return None


def wait_until(predicate: Any, timeout: float = 15.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.02)
    raise AssertionError("condition not met in time")
