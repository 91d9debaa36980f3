"""The actions' only door to the database (bot.storage). Failures never break a conversation.

A locked or unreachable database must not stop a young person's check-in or, worse, a crisis
reply: errors are logged by exception type and pseudonym-free context, and the chat goes on.
"""

from __future__ import annotations

import logging
from typing import Any

logger = logging.getLogger(__name__)


def _call(function_name: str, *args: Any, **kwargs: Any) -> bool:
    try:
        from bot.storage import repository

        getattr(repository, function_name)(*args, **kwargs)
        return True
    except Exception as exc:  # noqa: BLE001 — storage must never take the dialogue down
        logger.error("storage call %s failed: %s", function_name, type(exc).__name__, exc_info=True)
        return False


def record_consent(pseudonym: str, *, scope: str, given: bool) -> bool:
    return _call("record_consent", pseudonym, scope=scope, given=given)


def record_topic_summary(pseudonym: str, **fields: Any) -> bool:
    return _call("record_topic_summary", pseudonym, **fields)


def set_sharing(pseudonym: str, *, checkin_id: str, shared: bool) -> bool:
    return _call("set_sharing", pseudonym, checkin_id=checkin_id, shared=shared)


def record_escalation(*, level: str, category: str, pseudonym: "str | None") -> bool:
    return _call("record_escalation", level=level, category=category, pseudonym=pseudonym)
