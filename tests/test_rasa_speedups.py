"""The two `rasa run` speed-ups give Rasa's own results (bot/nlp/rasa_speedups.py)."""

from __future__ import annotations

import pytest
from jsonschema import ValidationError, validate
from rasa.core.actions.action import RemoteAction
from rasa.shared.core.events import ActionExecuted, ActiveLoop, Event, SlotSet, UserUttered

from bot.nlp import rasa_speedups

SCHEMA = RemoteAction.action_response_format_spec()
VALID = [
    {"events": [], "responses": []},
    {
        "events": [
            {"event": "slot", "name": "comparison_1", "value": 4, "timestamp": None},
            {"event": "active_loop", "name": "checkin_form"},
        ],
        "responses": [
            {
                "text": "Question 2 of 5: …",
                "buttons": [{"title": "Often", "payload": "/answer_often"}],
            }
        ],
    },
    {"events": [{"event": "followup", "name": "action_crisis_response"}]},
]
INVALID = [
    {"events": [{"event": "slot"}]},  # a slot event needs a name
    {"events": "not a list"},
    {"events": [{"event": "no_such_event"}]},
    {"responses": "text"},
]


@pytest.fixture(autouse=True)
def installed():
    rasa_speedups.install()
    yield
    rasa_speedups.uninstall()
    rasa_speedups.install()  # as the running bot has it


@pytest.mark.parametrize("response", VALID)
def test_valid_action_responses_pass_as_in_rasa(response):
    validate(response, SCHEMA)  # Rasa's own check agrees
    assert RemoteAction("action_x", None)._validate_action_result(response) is True


@pytest.mark.parametrize("response", INVALID)
def test_invalid_action_responses_fail_as_in_rasa(response):
    with pytest.raises(ValidationError):
        validate(response, SCHEMA)
    with pytest.raises(ValidationError) as raised:
        RemoteAction("action_x", None)._validate_action_result(response)
    assert "Failed to validate Action server response" in raised.value.message


def test_event_lookup_gives_rasas_classes_and_errors():
    names = ["user", "action", "slot", "active_loop", "session_started", "followup", "restart"]
    cached = [Event.resolve_by_type(n) for n in names + names]  # second round from the cache
    rasa_speedups.uninstall()
    original = [Event.resolve_by_type(n) for n in names + names]
    assert cached == original
    assert Event.resolve_by_type("topic") is None  # Rasa's backwards-compatibility case
    rasa_speedups.install()
    assert Event.resolve_by_type("topic") is None
    assert Event.resolve_by_type("no_such_event", default=SlotSet) is SlotSet
    with pytest.raises(ValueError, match="Unknown event name"):
        Event.resolve_by_type("no_such_event")


def test_events_round_trip_through_the_cached_lookup():
    events = [
        UserUttered("hi", {"name": "greet", "confidence": 1.0}),
        ActionExecuted("action_listen"),
        SlotSet("consent", True),
        ActiveLoop("checkin_form"),
    ]
    assert [Event.from_parameters(e.as_dict()) for e in events] == events


def test_the_risk_component_installs_them():
    """Importing the component is what `rasa run` does when it loads the model (fresh process)."""
    import subprocess
    import sys

    check = (
        "import bot.nlp.risk_component\n"
        "from bot.nlp import rasa_speedups\n"
        "from rasa.core.actions.action import RemoteAction\n"
        "from rasa.shared.core.events import Event\n"
        "assert RemoteAction._validate_action_result is rasa_speedups._validate_action_result\n"
        "assert Event.resolve_by_type is rasa_speedups._resolve_by_type\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", check], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-2000:]
