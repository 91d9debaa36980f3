"""Keep user text out of Rasa's own logs, through Rasa's own hook.

Rasa 3.6 passes every structured log event through `rasa.utils.log_utils._anonymizer`, which hands
the keys that can hold user text ("text", "user_message", "parse_data_text", "slot_values", ...)
to the anonymization pipeline a plugin provides (`get_anonymization_pipeline`, rasa/plugin.py;
Rasa Pro's PII masking plugs in there). Without one they are logged as they are: the REST
channel's "rest.message.received.timeout" event, for one, carries the user's message. This
module registers a pipeline that replaces every such value with a marker, so the log keeps the
event (and its file and line) but never the text. It is installed when the RiskDetector component
is imported, which every `rasa run` of this project does to load its model.
"""
from __future__ import annotations

from typing import Any, Optional

import pluggy

REDACTED = "[redacted]"
_hookimpl = pluggy.HookimplMarker("rasa")


class Redactor:
    """Rasa calls `log_run(value)` for every text-bearing field of a log event."""

    @staticmethod
    def log_run(value: Any) -> str:
        return REDACTED


class _Plugin:
    @_hookimpl
    def get_anonymization_pipeline(self) -> Optional[Any]:
        return Redactor()


_PLUGIN = _Plugin()


def install() -> None:
    """Register the redacting pipeline with Rasa's plugin manager (once per process)."""
    from rasa.plugin import plugin_manager

    manager = plugin_manager()
    if not manager.is_registered(_PLUGIN):
        manager.register(_PLUGIN, name="scrollcheck-log-privacy")
