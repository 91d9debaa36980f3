"""What the bot must do with each generated event, and the check that a chat got it, in order.

Each event expects zero or one *marker* in its chat, in the order the events were sent:
  ack:<hash>      the stand-in Rasa's answer to exactly that message (fuzz_responder)
  fixed:<key>     one of the front end's own texts (help, unknown_command, non_text, ...) in any
                  language, since a chat may switch to Dutch on the way
Other messages (safety replies, the not-a-human reminder, the truncation and busy notes) are
not markers: they may come between, and other tests pin them down.

The prediction mirrors what Telegram and the front end do with a text: Telegram marks a leading
/command as a bot_command entity (the stand-in Bot API does the same), PTB's CommandHandler
matches on that entity, free text loses its leading slashes, and the gateway normalises
whitespace and cuts at MAX_INPUT_CHARS before Rasa sees it.
"""

from __future__ import annotations

import functools
import hashlib
import re
from dataclasses import dataclass, field
from typing import Dict, FrozenSet, Iterable, List, Optional, Sequence, Tuple

from bot.gateway.text import MAX_INPUT_CHARS, bound_length, normalise_whitespace
from bot.languages import languages
from bot.telegram import texts
from tests.stack import CannedAnswer, RasaRequest
from tests.telegram.fake_bot_api import BOT_USERNAME

FIXED_KEYS = ("help", "unknown_command", "non_text", "edited_ignored", "language_question")
_COMMAND = re.compile(r"/[A-Za-z0-9_]{1,32}(@[A-Za-z0-9_]+)?")  # as the stand-in Bot API marks it


def ack_for(rasa_text: str) -> str:
    return (
        "ack:"
        + hashlib.blake2b(rasa_text.encode("utf-8", "surrogatepass"), digest_size=8).hexdigest()
    )


def fuzz_responder(request: RasaRequest) -> CannedAnswer:
    """The stand-in Rasa's answer: one text naming exactly what it received."""
    message = request.message if isinstance(request.message, str) else repr(request.message)
    return CannedAnswer([{"recipient_id": request.sender, "text": ack_for(message)}])


@functools.lru_cache(maxsize=1)
def fixed_texts() -> Dict[str, str]:
    """Every language's text of each fixed key -> "fixed:<key>"."""
    return {
        texts.text(key, code): f"fixed:{key}" for code in languages().codes for key in FIXED_KEYS
    }


def marker_of(message_text: str) -> Optional[str]:
    if message_text.startswith("ack:"):
        return message_text
    return fixed_texts().get(message_text)


@dataclass(frozen=True)
class Expect:
    """One event's outcome: one of `markers` (exactly one when required, else at most one)."""

    markers: FrozenSet[str]
    required: bool
    rasa: FrozenSet[str] = frozenset()  # the texts Rasa may receive for it (one of them, or none)


NOTHING = Expect(frozenset(), required=False)


def _fixed(key: str) -> Expect:
    return Expect(frozenset({f"fixed:{key}"}), required=True)


def _rasa(text: str) -> Expect:
    bounded, _ = bound_length(normalise_whitespace(text), MAX_INPUT_CHARS)
    return Expect(frozenset({ack_for(bounded)}), required=True, rasa=frozenset({bounded}))


def for_text(text: str) -> Expect:
    """A private text message as sent (commands included)."""
    command = _COMMAND.match(text)
    if command:
        name, _, bot = command.group(0)[1:].partition("@")
        name = name.lower()
        if bot and bot.lower() != BOT_USERNAME.lower():
            return _fixed("unknown_command")  # a command for another bot
        if name == "help":
            return _fixed("help")
        if name not in texts.COMMAND_PAYLOADS:
            return _fixed("unknown_command")
        words = text.split()
        if name == "language" and len(words) == 1:
            return _fixed("language_question")
        payload = (
            texts.language_payload(words[1:])
            if name == "language"
            else texts.COMMAND_PAYLOADS[name]
        )
        return _rasa(payload)
    stripped = text.strip()
    if stripped.startswith("/"):
        stripped = stripped.lstrip("/ ")
        if not stripped:
            return _fixed("unknown_command")
    if not normalise_whitespace(stripped):
        return _fixed("non_text")  # nothing readable in it
    return _rasa(stripped)


def for_button(data: str) -> Expect:
    """A press on one of our buttons: its data goes to Rasa as it is (normalised)."""
    return _rasa(data) if normalise_whitespace(data) else NOTHING


def either(first: Expect, second: Expect) -> Expect:
    return Expect(
        first.markers | second.markers, first.required and second.required, first.rasa | second.rasa
    )


def for_edit(text: str) -> Expect:
    """Ignored with a note, unless it carries a risk signal (then answered like a new message)."""
    readable = normalise_whitespace(text.strip().lstrip("/ "))
    return (
        either(_fixed("edited_ignored"), _rasa(readable)) if readable else _fixed("edited_ignored")
    )


def for_non_text(caption: Optional[str]) -> Expect:
    readable = normalise_whitespace((caption or "").strip().lstrip("/ "))
    return either(_fixed("non_text"), _rasa(readable)) if readable else _fixed("non_text")


def optional(expect: Expect) -> Expect:
    return Expect(expect.markers, False, expect.rasa)


def matches(items: Sequence[Expect], observed: Sequence[str], *, rasa: bool = False) -> bool:
    """Whether `observed` (markers, or Rasa texts with rasa=True) is exactly what `items` allow,
    in order: every required item once, optional ones at most once, nothing else."""
    options = [item.rasa if rasa else item.markers for item in items]
    # Projected on Rasa, an item is required only when every outcome it allows goes through Rasa.
    required = [
        item.required and (not rasa or all(m.startswith("ack:") for m in item.markers))
        for item in items
    ]

    @functools.lru_cache(maxsize=None)
    def fits(i: int, j: int) -> bool:
        if i == len(items):
            return j == len(observed)
        if j < len(observed) and observed[j] in options[i] and fits(i + 1, j + 1):
            return True
        return not required[i] and fits(i + 1, j)

    return fits(0, 0)


@dataclass
class ChatLedger:
    """Everything sent to one chat, what each event expects, and the button presses to check."""

    chat_id: int
    events: List[Tuple[str, ...]] = field(default_factory=list)
    expects: List[Expect] = field(default_factory=list)
    callback_ids: List[str] = field(default_factory=list)
    forged: List[str] = field(default_factory=list)  # button data that must never reach Rasa
    group_id: Optional[int] = None

    def add(self, event: Tuple[str, ...], expect: Expect) -> None:
        self.events.append(event)
        self.expects.append(expect)

    def required_acks(self) -> List[str]:
        return [
            next(iter(e.markers))
            for e in self.expects
            if e.required and len(e.markers) == 1 and next(iter(e.markers)).startswith("ack:")
        ]


def needles(values: Iterable[str], *, min_chars: int = 8, min_distinct: int = 4) -> List[str]:
    """The generated strings worth scanning the logs for, each in the forms a log could hold it
    (as sent, whitespace-normalised, lower case, escaped as repr() writes it).

    Trivially short or repetitive values ("ok", "aaaaaaaa", eight spaces, "/start") would match a
    log line by chance and are skipped: fewer than `min_chars` characters or `min_distinct`
    different ones. A long value is scanned by 48-character windows at its start, middle and end.
    """
    found = set()
    for value in values:
        for form in {
            value,
            normalise_whitespace(value),
            normalise_whitespace(value).lower(),
            repr(value)[1:-1],
        }:
            form = form.strip()
            if len(form) < min_chars or len(set(form)) < min_distinct:
                continue
            if len(form) <= 48:
                found.add(form)
                continue
            for start in (0, len(form) // 2, len(form) - 48):
                window = form[start : start + 48]
                if len(set(window)) >= min_distinct:
                    found.add(window)
    return sorted(found)
