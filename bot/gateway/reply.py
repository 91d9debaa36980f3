"""What the gateway hands to a front end: texts with optional buttons."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Awaitable, Callable, Iterable, List, Sequence, Tuple


@dataclass(frozen=True)
class Button:
    title: str
    payload: str


@dataclass(frozen=True)
class Reply:
    text: str
    buttons: Tuple[Button, ...] = ()
    # The fail-safe in place of Rasa's answer ("briefly unavailable", "not saved"): the message
    # did not count, so a front end that took away the buttons it came from shows them again.
    send_again: bool = False


# A front end's way to show replies at once, before the turn is over (the safety fast path).
Send = Callable[[List[Reply]], Awaitable[None]]


def buttons_from_pairs(pairs: Iterable[Sequence[str]]) -> Tuple[Button, ...]:
    """(title, payload) pairs, as bot.safety.replies writes them, as Buttons."""
    return tuple(Button(str(title), str(payload)) for title, payload in pairs)
