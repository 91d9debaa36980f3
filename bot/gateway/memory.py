"""What the gateway remembers per pseudonym, in memory only and bounded.

Nothing here is ever logged or stored: a restart forgets it, /forget erases it (Gateway.forget).
"""

from __future__ import annotations

import time
from collections import OrderedDict
from typing import Callable, Generic, Optional, Tuple, TypeVar

K = TypeVar("K")
V = TypeVar("V")

MAX_REMEMBERED_PSEUDONYMS = 100_000  # per in-memory table; least recently used entries go first
CONTEXT_MESSAGES = 3  # earlier messages the detector reads with the new one
CONTEXT_MAX_CHATS = 20_000  # chats whose recent messages are held (each at most 3 x 500 chars)
CONTEXT_MAX_CHARS = 500  # per remembered message: its end, where it meets the next one
CONTEXT_WINDOW_SECONDS = 15 * 60  # older messages are no longer part of "what was just said"


class _Lru(Generic[K, V]):
    """A dict that forgets its least recently used entries beyond `max_entries`."""

    def __init__(self, max_entries: int) -> None:
        self._data: "OrderedDict[K, V]" = OrderedDict()
        self._max = max_entries

    def __contains__(self, key: object) -> bool:
        return key in self._data

    def __len__(self) -> int:
        return len(self._data)

    def get(self, key: K, default: Optional[V] = None) -> Optional[V]:
        return self._data.get(key, default)

    def set(self, key: K, value: V) -> None:
        self._data[key] = value
        self._data.move_to_end(key)
        while len(self._data) > self._max:
            self._data.popitem(last=False)

    def pop(self, key: K) -> Optional[V]:
        return self._data.pop(key, None)


class ChatContext:
    """The last few messages of each chat, oldest first, for the detector's `context`.

    Only what the user wrote (never button payloads), each cut to its last CONTEXT_MAX_CHARS
    characters, and only while the chat is recent (CONTEXT_WINDOW_SECONDS).
    """

    def __init__(
        self,
        *,
        size: int = CONTEXT_MESSAGES,
        max_chats: int = CONTEXT_MAX_CHATS,
        max_chars: int = CONTEXT_MAX_CHARS,
        window: float = CONTEXT_WINDOW_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.size = size
        self.max_chars = max_chars
        self.window = window
        self._clock = clock
        self._chats: _Lru[str, Tuple[Tuple[float, str], ...]] = _Lru(max_chats)

    def recent(self, pseudonym: str) -> Tuple[str, ...]:
        kept = self._chats.get(pseudonym) or ()
        oldest = self._clock() - self.window
        return tuple(text for at, text in kept if at >= oldest)

    def add(self, pseudonym: str, text: str) -> None:
        oldest = self._clock() - self.window
        kept = tuple(item for item in self._chats.get(pseudonym) or () if item[0] >= oldest)
        entry = (self._clock(), text[-self.max_chars :])
        self._chats.set(pseudonym, (kept + (entry,))[-self.size :])

    def close(self, pseudonym: str) -> None:
        self._chats.pop(pseudonym)

    def __len__(self) -> int:
        return len(self._chats)
