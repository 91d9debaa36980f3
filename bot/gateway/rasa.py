"""Rasa's REST webhook: the request the gateway posts and what it makes of the answer."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, Dict, List, Mapping, Optional

from bot.gateway.reply import Button, Reply

logger = logging.getLogger("bot.gateway")

CONTROL_KEY = "scrollcheck"
NOTHING_TO_SHOW = "no message to show"


@dataclass
class RasaTurn:
    """What Rasa said for one message, with control messages separated out."""

    replies: List[Reply]
    controls: List[Mapping[str, Any]]
    failure: Optional[str] = None  # why this turn counts as "Rasa unavailable", if it does

    @property
    def answered(self) -> bool:
        """Rasa's HTTP answer arrived and was well formed (possibly with nothing to show)."""
        return self.failure is None or self.failure == NOTHING_TO_SHOW

    @property
    def disclosed(self) -> bool:
        return any(control.get("disclosed") is True for control in self.controls)

    @property
    def erase(self) -> bool:
        return any(control.get("erase") is True for control in self.controls)

    @property
    def not_saved(self) -> bool:
        """Rasa could not save this turn (bot.storage.rasa_channel): the question is still open."""
        return any(control.get("not_saved") is True for control in self.controls)


def rasa_payload(pseudonym: str, text: str, metadata: Mapping[str, Any]) -> Dict[str, Any]:
    payload: Dict[str, Any] = {"sender": pseudonym, "message": text}
    if metadata:
        payload["metadata"] = dict(metadata)
    return payload


def parse_rasa_messages(body: Any) -> RasaTurn:
    """Turn the REST channel's JSON into replies and controls; anything malformed is a failure."""
    if not isinstance(body, list):
        return RasaTurn([], [], failure=f"answer is a {type(body).__name__}, not a list")
    replies: List[Reply] = []
    controls: List[Mapping[str, Any]] = []
    for message in body:
        if not isinstance(message, dict):
            continue
        custom = message.get("custom")
        if isinstance(custom, dict) and isinstance(custom.get(CONTROL_KEY), dict):
            controls.append(custom[CONTROL_KEY])  # never shown; a text beside it still is
        elif custom is not None:
            logger.debug("ignoring a custom message of type %s", type(custom).__name__)
        reply = _reply_from_message(message)
        if reply is not None:
            replies.append(reply)
    if not replies:
        # Rasa answers [] (or only controls) when the action server is down: a custom action
        # failed and its messages were lost. Silence is a failure unless the gateway has already
        # answered the message itself (the safety fast path); the caller decides.
        return RasaTurn([], controls, failure=NOTHING_TO_SHOW)
    return RasaTurn(replies, controls)


def _reply_from_message(message: Mapping[str, Any]) -> Optional[Reply]:
    text = message.get("text")
    text = text.strip() if isinstance(text, str) else ""
    buttons = tuple(
        Button(title=str(b["title"]), payload=str(b.get("payload") or b["title"]))
        for b in message.get("buttons") or ()
        if isinstance(b, dict) and b.get("title")
    )
    if not text and not buttons:
        return None  # images, attachments and empty texts are not shown by our front ends
    # Buttons need a text on Telegram; Rasa's own messages always have one, so this is only a
    # guard, and a pointing hand reads the same in every language.
    return Reply(text=text or "👇", buttons=buttons)
