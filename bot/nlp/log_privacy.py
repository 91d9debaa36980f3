"""Keep user text out of Rasa's own logs.

Rasa 3.6 logs structured events through structlog, some with the user's message in them: the REST
channel's "rest.message.received.timeout" and "...failure" carry `text`, and other events carry
`user_text`, `parse_data_text`, `slot_values` and more (the list in rasa/utils/log_utils.py).
Rasa's own anonymizer only acts when a plugin provides an anonymization pipeline, and providing
one also makes Rasa re-read every tracker from the store after each message (processor.py,
run_anonymization_pipeline): a database read per message for nothing. So this module prepends one
structlog processor to Rasa's configuration instead: the event keeps its name, level and file
and line of any exception; every text-bearing field becomes "[redacted]". It is installed when the
RiskDetector component is imported, which every `rasa run` of this project does to load its model
(after Rasa has configured structlog, before the first message). The same moment gives Rasa's
stdlib log handlers the project's formatter, and structlog events with an exception keep its type
and stack frames but not its message (bot/logformat.py).
"""

from __future__ import annotations

from typing import Any, MutableMapping

REDACTED = "[redacted]"
# Rasa's own list of keys that may hold user content (rasa.utils.log_utils._anonymizer), plus the
# REST channel's and the trackers' ones.
TEXT_KEYS = frozenset(
    {
        "text",
        "response_text",
        "user_text",
        "slot_values",
        "parse_data_text",
        "parse_data_entities",
        "prediction_events",
        "tracker_latest_message",
        "prefilled_slots",
        "message",
        "response",
        "slot_candidates",
        "rasa_event",
        "rasa_events",
        "tracker_states",
        "current_states",
        "old_states",
        "successes",
        "current_entity",
        "next_entity",
        "states",
        "entity",
        "token_text",
        "user_message",
        "json_message",
        "metadata",
        "parse_data",
        "tracker",
    }
)


def redact_user_text(
    _: Any, __: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """A structlog processor: every key that can hold user content is replaced by a marker."""
    for key in TEXT_KEYS.intersection(event_dict):
        event_dict[key] = REDACTED
    return event_dict


def install() -> None:
    """Put redact_user_text first in Rasa's structlog processors, the exception summary second, and
    the safe formatter on every log handler (once per process)."""
    import structlog

    from bot import logformat

    processors = list(structlog.get_config().get("processors") or [])
    if redact_user_text not in processors:
        structlog.configure(
            processors=[redact_user_text, logformat.structlog_processor, *processors]
        )
    logformat.protect_existing_handlers()
