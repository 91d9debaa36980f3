"""Sending to Telegram: splitting long texts, inline keyboards, retries, and which keyboard is live.

* Texts go out as plain text (no parse mode), so nothing needs escaping and nothing a maintainer
  writes can break a message.
* A text longer than Telegram's 4096 limit (counted in UTF-16 code units, as Telegram does) is split
  at paragraph, line, sentence or word boundaries; the buttons go with the last part.
* 429 Too Many Requests is retried by PTB's AIORateLimiter (it honours retry_after); network errors
  (connection failures, timeouts, 5xx answered as NetworkError) are retried here with exponential
  backoff and jitter. A retried send whose first attempt did reach Telegram can show up twice; for a
  safety message a duplicate is better than a loss.
* Only the newest keyboard of a chat is live: when a newer question with buttons arrives the old
  keyboard is removed, and a press on an old one is refused (see KeyboardTracker). A turn without
  buttons leaves the open question's keyboard alone.
* A pressed keyboard goes at once; if the gateway's fail-safe answers the press, its message
  brings the same buttons back (give_buttons_back).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections import OrderedDict
from dataclasses import replace
from typing import AsyncIterator, Awaitable, Callable, List, Optional, Sequence, Tuple, TypeVar

from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, Message
from telegram.constants import ChatAction, MessageLimit
from telegram.error import BadRequest, Forbidden, InvalidToken, NetworkError

from bot.gateway import Button, Reply
from bot.telegram.callback_data import CallbackDataMap

logger = logging.getLogger(__name__)

T = TypeVar("T")

MAX_MESSAGE_UNITS = MessageLimit.MAX_TEXT_LENGTH  # 4096
NETWORK_ATTEMPTS = 4
BACKOFF_BASE_SECONDS = 0.5
BACKOFF_MAX_SECONDS = 8.0
TYPING_REFRESH_SECONDS = 4.0  # Telegram shows "typing…" for about 5 s per sendChatAction
# Most answers arrive in well under a second: "typing…" would flash for nothing and cost one Bot
# API call per message. It appears only when the answer takes longer than this.
TYPING_AFTER_SECONDS = 0.7


def utf16_units(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def split_text(text: str, limit: int = MAX_MESSAGE_UNITS) -> List[str]:
    """Split into parts of at most `limit` UTF-16 units, preferring natural boundaries."""
    parts: List[str] = []
    rest = text
    while utf16_units(rest) > limit:
        window = _prefix_within(rest, limit)
        cut = _natural_cut(window)
        parts.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    parts.append(rest)
    return [part for part in parts if part]


def _prefix_within(text: str, limit: int) -> str:
    """The longest prefix of `text` within `limit` UTF-16 units (never half a surrogate pair)."""
    units = 0
    for index, char in enumerate(text):
        units += 2 if ord(char) > 0xFFFF else 1
        if units > limit:
            return text[:index]
    return text


def _natural_cut(window: str) -> int:
    minimum = len(window) // 2  # do not produce tiny parts just to cut at a boundary
    for separator in ("\n\n", "\n", ". ", "! ", "? ", " "):
        position = window.rfind(separator)
        if position >= minimum:
            return position + len(separator)
    return len(window)


def keyboard_for(reply: Reply, callback_data: CallbackDataMap) -> Optional[InlineKeyboardMarkup]:
    """One button per row: answer labels such as "Very often" stay readable on a phone."""
    if not reply.buttons:
        return None
    return InlineKeyboardMarkup(
        [
            [InlineKeyboardButton(button.title, callback_data=callback_data.encode(button.payload))]
            for button in reply.buttons
        ]
    )


def buttons_from_keyboard(
    markup: Optional[InlineKeyboardMarkup], callback_data: CallbackDataMap
) -> Tuple[Button, ...]:
    """The buttons of a keyboard this bot sent, read back from Telegram's copy of it (a button
    whose long payload the map has forgotten, or that PTB parsed with odd types, is left out)."""
    buttons = []
    for row in markup.inline_keyboard if markup else ():
        for button in row:
            data = button.callback_data
            payload = callback_data.resolve(data) if isinstance(data, str) else None
            if payload is not None and isinstance(button.text, str):
                buttons.append(Button(button.text, payload))
    return tuple(buttons)


def give_buttons_back(replies: Sequence[Reply], buttons: Tuple[Button, ...]) -> List[Reply]:
    """A pressed keyboard is removed at once; when the gateway's fail-safe answered the press (it
    did not count: "please send that again"), the fail-safe message gets the same buttons, so the
    user can press again instead of typing. Any buttons of the turn's own (a crisis reply's, a
    next question's) win."""
    if not buttons or any(reply.buttons for reply in replies):
        return list(replies)
    marked = [index for index, reply in enumerate(replies) if reply.send_again]
    if not marked:
        return list(replies)
    return [
        replace(reply, buttons=buttons) if index == marked[-1] else reply
        for index, reply in enumerate(replies)
    ]


async def with_network_retries(
    call: Callable[[], Awaitable[T]],
    *,
    attempts: int = NETWORK_ATTEMPTS,
    base_delay: float = BACKOFF_BASE_SECONDS,
    max_delay: float = BACKOFF_MAX_SECONDS,
) -> T:
    """Retry `call` on network errors with exponential backoff; other errors are final."""
    for attempt in range(1, attempts + 1):
        try:
            return await call()
        except (BadRequest, Forbidden, InvalidToken):
            raise  # BadRequest subclasses NetworkError, but retrying cannot fix it
        except NetworkError as exc:
            if attempt == attempts:
                raise
            delay = min(max_delay, base_delay * 2 ** (attempt - 1)) * random.uniform(0.5, 1.0)
            logger.warning(
                "telegram network error (%s), retry %d in %.1f s",
                type(exc).__name__,
                attempt,
                delay,
            )
            await asyncio.sleep(delay)
    raise AssertionError("unreachable")


class KeyboardTracker:
    """Per pseudonym, the message id of the one live keyboard (None: no keyboard is live).

    A pseudonym we know nothing about (new, or after a restart) accepts any press: refusing would
    strand a user whose bot restarted between question and answer.
    """

    def __init__(self, max_entries: int = 100_000) -> None:
        self._live: "OrderedDict[str, Optional[int]]" = OrderedDict()
        self._max = max_entries

    def live(self, pseudonym: str) -> Optional[int]:
        return self._live.get(pseudonym)

    def accepts(self, pseudonym: str, message_id: int) -> bool:
        if pseudonym not in self._live:
            return True
        return self._live[pseudonym] == message_id

    def set(self, pseudonym: str, message_id: Optional[int]) -> None:
        self._live[pseudonym] = message_id
        self._live.move_to_end(pseudonym)
        while len(self._live) > self._max:
            self._live.popitem(last=False)

    def forget(self, pseudonym: str) -> None:
        self._live.pop(pseudonym, None)


class ReplySender:
    """Sends gateway replies to one chat at a time (callers serialise per chat via the lanes)."""

    def __init__(
        self, bot: Bot, callback_data: CallbackDataMap, keyboards: KeyboardTracker
    ) -> None:
        self.bot = bot
        self.callback_data = callback_data
        self.keyboards = keyboards

    async def send_replies(self, chat_id: int, pseudonym: str, replies: Sequence[Reply]) -> None:
        if not replies:
            return
        previous = self.keyboards.live(pseudonym)
        newest_keyboard: Optional[int] = None
        for reply in replies:
            parts = split_text(reply.text)
            markup = keyboard_for(reply, self.callback_data)
            for index, part in enumerate(parts):
                last = index == len(parts) - 1
                message = await self.send_text(chat_id, part, markup if last else None)
                if last and markup is not None:
                    newest_keyboard = message.message_id
        if newest_keyboard is None:
            return  # a turn without buttons (e.g. "sorry, tap one of the buttons") keeps the open question
        self.keyboards.set(pseudonym, newest_keyboard)
        if previous is not None:
            await self.remove_keyboard(chat_id, previous)  # superseded by the newer question

    async def send_text(
        self, chat_id: int, text: str, markup: Optional[InlineKeyboardMarkup] = None
    ) -> Message:
        return await with_network_retries(
            lambda: self.bot.send_message(chat_id=chat_id, text=text, reply_markup=markup)
        )

    async def remove_keyboard(self, chat_id: int, message_id: int) -> None:
        """Best effort: "message is not modified" or a deleted message is not worth an error."""
        try:
            await with_network_retries(
                lambda: self.bot.edit_message_reply_markup(
                    chat_id=chat_id, message_id=message_id, reply_markup=None
                )
            )
        except BadRequest as exc:
            logger.debug("keyboard not removed: %s", type(exc).__name__, exc_info=True)

    async def answer_callback(self, query_id: str, text: Optional[str] = None) -> None:
        try:
            await with_network_retries(lambda: self.bot.answer_callback_query(query_id, text=text))
        except BadRequest as exc:  # e.g. "query is too old" after a restart: nothing to do
            logger.debug("callback query not answered: %s", type(exc).__name__, exc_info=True)

    @contextlib.asynccontextmanager
    async def typing(self, chat_id: int) -> AsyncIterator[None]:
        """Show "typing…" from TYPING_AFTER_SECONDS until the block ends (refreshed, since Telegram
        drops it after ~5 s)."""

        async def keep_typing() -> None:
            await asyncio.sleep(TYPING_AFTER_SECONDS)
            while True:
                try:
                    await self.bot.send_chat_action(chat_id=chat_id, action=ChatAction.TYPING)
                except Exception as exc:  # cosmetic: never let it disturb the conversation
                    logger.debug("typing indicator failed: %s", type(exc).__name__, exc_info=True)
                await asyncio.sleep(TYPING_REFRESH_SECONDS)

        task = asyncio.create_task(keep_typing())
        try:
            yield
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
