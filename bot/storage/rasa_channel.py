"""The REST channel Rasa serves the gateway on (credentials.yml): Rasa's own, plus one promise.

A turn whose tracker could not be read or saved (the database stayed locked or full, see
bot.storage.tracker_store) is not answered as if it had gone well: its replies are replaced by one
control message, `{"custom": {"scrollcheck": {"not_saved": true}}}`, and the gateway tells the user
their answer was not saved (data/safety/replies.yml, `gateway.not_saved`). The question stays open
in the stored tracker, so the answer sent again lands on it.

A turn that raised is answered with no message at all (the gateway's "briefly unavailable" then),
never with the replies it collected before it failed, and logged by exception type only: Rasa's
own channel logs the user's message text in that case.

The URL stays /webhooks/rest/webhook (the channel keeps the name `rest`).
"""

from __future__ import annotations

import logging
from typing import Any, Awaitable, Callable, Dict

from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
from rasa.core.channels.rest import RestInput
from sanic import Blueprint

from bot.storage.tracker_store import watch_turn

logger = logging.getLogger(__name__)

CONTROL_KEY = "scrollcheck"  # as bot.gateway.rasa reads it
NOT_SAVED: Dict[str, Any] = {"custom": {CONTROL_KEY: {"not_saved": True}}}


class GatewayInput(RestInput):
    @classmethod
    def name(cls) -> str:
        return "rest"

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        async def handle(message: UserMessage) -> None:
            storage = watch_turn()
            failed = False
            try:
                await on_new_message(message)
            except Exception as exc:  # noqa: BLE001 — reported to the gateway below, by type in the log
                logger.error("turn failed: %s", type(exc).__name__, exc_info=True)
                failed = True
            collected = (
                message.output_channel.messages
                if isinstance(message.output_channel, CollectingOutputChannel)
                else None
            )
            if not isinstance(collected, list):
                return  # the streaming variant: the gateway does not use it
            if storage.failed:
                collected[:] = [{"recipient_id": message.sender_id, **NOT_SAVED}]
            elif failed:
                collected.clear()

        return super().blueprint(handle)
