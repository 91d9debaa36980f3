"""Button payloads <-> Telegram callback_data, which must be 1-64 bytes.

A payload that fits is sent as is. A longer one (or one that starts with our marker) is replaced by
"#" + a 24-character hash and remembered in memory (bounded, least recently used first out), so the
same payload always gets the same short id. After a restart those ids are unknown: `resolve`
returns None and the front end asks the user to type the answer instead.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from typing import Optional

CALLBACK_DATA_MAX_BYTES = 64
_MARKER = "#"
DEFAULT_MAX_ENTRIES = 50_000


class CallbackDataMap:
    def __init__(self, max_entries: int = DEFAULT_MAX_ENTRIES) -> None:
        self._payloads: "OrderedDict[str, str]" = OrderedDict()
        self._max = max_entries

    def encode(self, payload: str) -> str:
        if len(payload.encode("utf-8")) <= CALLBACK_DATA_MAX_BYTES and not payload.startswith(
            _MARKER
        ):
            return payload
        short = _MARKER + hashlib.blake2b(payload.encode("utf-8"), digest_size=12).hexdigest()
        self._payloads[short] = payload
        self._payloads.move_to_end(short)
        while len(self._payloads) > self._max:
            self._payloads.popitem(last=False)
        return short

    def resolve(self, data: str) -> Optional[str]:
        if not data.startswith(_MARKER):
            return data
        payload = self._payloads.get(data)
        if payload is not None:
            self._payloads.move_to_end(data)
        return payload
