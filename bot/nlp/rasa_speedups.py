"""Two hot spots of `rasa run` made cheaper, with the same results. Found with py-spy under the
benchmark's load (8 users, scripted check-ins), where the Rasa process is the bottleneck:

1. Action-server responses. Rasa 3.6 checks every custom action's response with
   `jsonschema.validate(result, schema)`, which re-checks its large events schema against the
   JSON-Schema meta-schema and builds a new validator on every call: ~7 ms per action, two actions
   per check-in message (the form's validation and its next question). One validator built once
   gives the same verdicts for ~1.5 ms.
2. Tracker deserialisation. Every event of a tracker read from the tracker store is looked up by
   `Event.resolve_by_type`, which walks all Event subclasses (with `inspect.isabstract`) each
   time: ~15 % of the process under load. The lookup is cached per type name; a name not seen
   yet still goes through Rasa's own function (so its errors and defaults are unchanged).

Installed when the model loads (bot/nlp/risk_component.py imports this module), so it applies to
`rasa run` and `rasa test`; `install()` is idempotent. tests/test_rasa_speedups.py checks both
against Rasa's originals.
"""

from __future__ import annotations

from typing import Any, Dict, Optional, Text, Type

from rasa.core.actions.action import RemoteAction
from rasa.shared.constants import DOCS_BASE_URL
from rasa.shared.core.events import Event

_ORIGINAL_VALIDATE = RemoteAction._validate_action_result
_ORIGINAL_RESOLVE = Event.resolve_by_type
_validator = None
_event_classes: Dict[Text, Type[Event]] = {}


def _compiled_validator():
    global _validator
    if _validator is None:
        from jsonschema import validators

        schema = RemoteAction.action_response_format_spec()
        cls = validators.validator_for(schema)
        cls.check_schema(schema)  # once, instead of on every response
        _validator = cls(schema)
    return _validator


def _validate_action_result(self: RemoteAction, result: Dict[Text, Any]) -> bool:
    from jsonschema import exceptions

    error = exceptions.best_match(_compiled_validator().iter_errors(result))
    if error is not None:
        # The same message Rasa gives, so its logs and error handling stay as they were.
        error.message += (
            ". Failed to validate Action server response from API, make sure your response from "
            f"the Action endpoint is valid. For more information about the format visit {DOCS_BASE_URL}/custom-actions"
        )
        raise error
    return True


def _resolve_by_type(
    type_name: Text, default: Optional[Type[Event]] = None
) -> Optional[Type[Event]]:
    cls = _event_classes.get(type_name)
    if cls is None:
        cls = _ORIGINAL_RESOLVE(type_name, default)
        if cls is not None and cls is not default:
            _event_classes[type_name] = cls
    return cls


def install() -> None:
    RemoteAction._validate_action_result = _validate_action_result
    Event.resolve_by_type = staticmethod(_resolve_by_type)


def uninstall() -> None:  # for tests
    RemoteAction._validate_action_result = _ORIGINAL_VALIDATE
    Event.resolve_by_type = staticmethod(_ORIGINAL_RESOLVE)
    _event_classes.clear()
