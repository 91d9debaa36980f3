"""Simulated young people on Telegram: scripted check-ins against the stand-in Bot API.

Used by the full-path benchmark (benchmarks/full_path.py) and the scale-out test
(tests/scale/): N private chats run scripted check-ins (buttons, free text, interruptions, and
one chat in ten sends a risk message in the middle). Each user waits for the bot's answer (the
next question, or a quiet second after the last step) before the next message, at once or after
a think time drawn from an exponential distribution. `Load` records, per turn, when the first
reply arrived, whether it was the fail-safe ("briefly unavailable") or a busy note, and which
chats got stuck (no answer in time, or no button to press: the conversation took a wrong turn).
"""

from __future__ import annotations

import asyncio
import random
import time
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Tuple

from tests.telegram.fake_bot_api import FakeBotApi, FakeUser

REPLY_TIMEOUT = 30.0  # a message with no answer in this long counts as lost
QUIET = 1.0  # a turn without a question (buttons) ends after this much silence
RISK_TEXT = "honestly i just want to die"

# Scripts: ("say", text) or ("press", button title). All English, all ending the check-in.
ANSWERS = ["Often", "Sometimes", "Very often", "Rarely", "Never"]
BUTTONS = [
    ("say", "/start"),
    ("press", "Yes, that's OK"),
    ("press", "16–17"),
    ("press", "UK"),
    ("press", "Fear of missing out"),
    *[("press", a) for a in ANSWERS],
    ("press", "Yes, share it"),
]
FREE_TEXT = [
    ("say", "/start"),
    ("say", "yeah sure"),
    ("say", "im 16"),
    ("say", "ireland"),
    ("say", "comparing myself to others"),
    ("say", "sometimes"),
    ("say", "a lot"),
    ("say", "hardly ever"),
    ("say", "all the time tbh"),
    ("say", "never"),
    ("say", "no"),
]
INTERRUPTED = [
    ("say", "/start"),
    ("say", "yes"),
    ("say", "why do you even ask that"),
    ("say", "17"),
    ("say", "uk"),
    ("say", "cyberbullying"),
    ("say", "never"),
    ("say", "what happens to my answers?"),
    ("say", "rarely"),
    ("say", "sometimes"),
    ("say", "never"),
    ("say", "rarely"),
    ("say", "yes"),
]
RISKY = [
    ("say", "/start"),
    ("press", "Yes, that's OK"),
    ("press", "18–25"),
    ("press", "UK"),
    ("press", "Fear of missing out"),
    ("press", "Often"),
    ("say", RISK_TEXT),
    ("press", "No"),
    ("press", "Back to the check-in"),
    *[("press", a) for a in ANSWERS[1:]],
    ("press", "No, keep it private"),
]
SCRIPTS = {"buttons": BUTTONS, "free text": FREE_TEXT, "interruptions": INTERRUPTED}
# The same button under another title: when Rasa was down for the acuity question, the gateway
# answers the "No" itself and, not knowing a check-in was paused, titles the same resume payload
# "Start a check-in" (bot.safety.replies.acuity_no_reply).
SAME_BUTTON = {"Back to the check-in": ("Start a check-in",)}


def make_user(user_id: int) -> FakeUser:
    return FakeUser(
        id=user_id,
        first_name=f"Bench{user_id}",
        last_name="Load",
        username=f"bench_{user_id}",
        language_code="en-GB",
    )


def script_for(index: int) -> Tuple[str, List[Tuple[str, str]]]:
    if index % 10 == 9:
        return "risk", RISKY
    name = list(SCRIPTS)[index % 3]
    return name, SCRIPTS[name]


# --- the stand-in Bot API, with the arrival time of every bot message ------------------------------


class TimedBotApi(FakeBotApi):
    """The tests' stand-in Bot API that also tells the benchmark when each bot message arrives."""

    def __init__(self) -> None:
        super().__init__()
        self.listener: Optional[Any] = None
        self.typing: Dict[Any, List[float]] = {}  # chat id -> when "typing…" was shown

    async def _api_sendMessage(self, params: Dict[str, Any]) -> Dict[str, Any]:
        message = await super()._api_sendMessage(params)
        if self.listener is not None:
            self.listener(message, time.monotonic())
        return message

    async def _api_sendChatAction(self, params: Dict[str, Any]) -> bool:
        shown = await super()._api_sendChatAction(params)
        self.typing.setdefault(params.get("chat_id"), []).append(time.monotonic())
        return shown


@dataclass
class Turn:
    sent: float
    first: Optional[float] = None  # the first message of the answer (a "busy" note is not one)
    unavailable: bool = False
    busy: bool = False
    busy_at: Optional[float] = None  # when the "lots of people are chatting" note came
    risk: bool = False
    last: bool = False  # the script's last step: its answer has no buttons
    pressed: bool = False  # a button press (the fail-safe must give its buttons back)


@dataclass
class Chat:
    user: FakeUser
    script: List[Tuple[str, str]]
    arrivals: "asyncio.Queue[Tuple[Dict[str, Any], float]]" = field(default_factory=asyncio.Queue)
    turns: List[Turn] = field(default_factory=list)
    sent: List[Tuple[str, str]] = field(default_factory=list)  # the steps sent, retries included
    last_with_buttons: Optional[Dict[str, Any]] = None
    stuck: Optional[str] = None
    # Steps skipped to follow the bot after a fail-safe: the lost turn had reached Rasa, so the
    # answer pressed again counted for the next question (answer payloads do not name their
    # question) and the bot is ahead of the script. Reported, not hidden.
    skipped: int = 0


def announced_within(api: TimedBotApi, chat: "Chat", turn: Turn, seconds: float) -> bool:
    """Was the user told within `seconds` that the answer is coming (the busy note, or "typing…")?"""
    if turn.busy_at is not None and turn.busy_at - turn.sent <= seconds:
        return True
    return any(0 <= at - turn.sent <= seconds for at in api.typing.get(chat.user.id, ()))


class Load:
    def __init__(
        self,
        api: TimedBotApi,
        unavailable_prefix: str,
        busy_prefix: str,
        think_mean: float,
        seed: int,
        *,
        retries: int = 0,
    ) -> None:
        self.api, self.unavailable_prefix, self.think_mean = api, unavailable_prefix, think_mean
        self.busy_prefix = busy_prefix
        # Answered with the fail-safe ("briefly unavailable, try again"), a user tries the same
        # step again after a pause, up to `retries` times (0: the chat ends there); a press is
        # pressed again, on the buttons the fail-safe message brings back.
        self.retries = retries
        self.rng = random.Random(seed)
        self.chats: Dict[int, Chat] = {}
        self.loop = asyncio.get_running_loop()
        api.listener = lambda message, at: self.loop.call_soon_threadsafe(
            self._arrived, message, at
        )

    def _arrived(self, message: Dict[str, Any], at: float) -> None:
        chat = self.chats.get(message["chat"]["id"])
        if chat is not None:
            chat.arrivals.put_nowait((message, at))

    async def run_chat(self, chat: Chat) -> None:
        step = 0
        while step < len(chat.script):
            ahead = self._ahead_after_fail_safe(chat, step)
            if ahead:
                chat.skipped += ahead
                step += ahead
            kind, value = chat.script[step]
            step += 1
            for _attempt in range(self.retries + 1):
                if not await self._step(chat, step - 1, kind, value):
                    return
                if not chat.turns[-1].unavailable:
                    break
                await asyncio.sleep(1.0)
            else:
                chat.stuck = "unavailable after retries"
                return

    @staticmethod
    def _ahead_after_fail_safe(chat: Chat, step: int) -> int:
        """After a fail-safe in this chat, when the step's button is not on the keyboard but a
        later step's is (the bot moved on), how many steps to skip to follow it; else 0."""
        if not any(turn.unavailable for turn in chat.turns) or chat.last_with_buttons is None:
            return 0
        titles = {
            button["text"]
            for row in (chat.last_with_buttons.get("reply_markup") or {}).get("inline_keyboard", [])
            for button in row
        }
        kind, value = chat.script[step]
        if kind != "press" or titles & {value, *SAME_BUTTON.get(value, ())}:
            return 0
        for later in range(step + 1, min(step + 3, len(chat.script))):
            later_kind, later_value = chat.script[later]
            if later_kind == "press" and later_value in titles:
                return later - step
        return 0

    async def _step(self, chat: Chat, step: int, kind: str, value: str) -> bool:
        """Send one step and wait for its answer; False when the chat cannot go on."""
        if self.think_mean:
            await asyncio.sleep(self.rng.expovariate(1 / self.think_mean))
        while not chat.arrivals.empty():  # late messages of an earlier turn
            chat.arrivals.get_nowait()
        turn = Turn(
            sent=time.monotonic(),
            risk=value == RISK_TEXT,
            last=step == len(chat.script) - 1,
            pressed=kind == "press",
        )
        if kind == "say":
            self.api.send_text(chat.user, value)
        else:
            if chat.last_with_buttons is None:
                chat.stuck = f"no buttons to press {value!r}"
                return False
            for title in (value, *SAME_BUTTON.get(value, ())):
                try:
                    self.api.press(chat.user, chat.last_with_buttons, title)
                    break
                except AssertionError:
                    continue
            else:
                chat.stuck = f"no button {value!r}"
                return False
        chat.turns.append(turn)
        chat.sent.append((kind, value))
        return await self._await_turn(chat, turn)

    async def _await_turn(self, chat: Chat, turn: Turn) -> bool:
        """Wait for this step's answer: the next question (a message with buttons; for a risk
        message the Yes/No follow-up after the crisis reply), or for the last step a quiet second."""
        deadline = turn.sent + REPLY_TIMEOUT
        while True:
            timeout = (
                QUIET if (turn.last and turn.first is not None) else deadline - time.monotonic()
            )
            try:
                message, at = await asyncio.wait_for(chat.arrivals.get(), max(timeout, 0.01))
            except asyncio.TimeoutError:
                if turn.first is None or not turn.last:
                    chat.stuck = "timeout"
                    return False
                return True
            text = message.get("text", "")
            if text.startswith(self.busy_prefix):
                turn.busy, turn.busy_at = True, at
                continue
            if turn.first is None:
                turn.first = at
            if text.startswith(self.unavailable_prefix):
                turn.unavailable = True
                if turn.pressed:
                    if not message.get("reply_markup"):
                        chat.stuck = "fail-safe without the pressed buttons"
                        return False
                    chat.last_with_buttons = message  # where the user presses again
                if self.retries:
                    return True  # the user will try again
            if message.get("reply_markup"):
                chat.last_with_buttons = message
                titles = [
                    b["text"] for row in message["reply_markup"]["inline_keyboard"] for b in row
                ]
                if not turn.risk or "No" in titles:
                    return True
