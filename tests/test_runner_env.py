"""What `scrollcheck run` (make run) hands to every process it starts."""

from __future__ import annotations

from bot.runner import _child_env


def test_rasa_telemetry_is_off_unless_the_operator_opts_in(monkeypatch):
    monkeypatch.delenv("RASA_TELEMETRY_ENABLED", raising=False)
    assert _child_env()["RASA_TELEMETRY_ENABLED"] == "false"
    monkeypatch.setenv("RASA_TELEMETRY_ENABLED", "true")
    assert _child_env()["RASA_TELEMETRY_ENABLED"] == "true"


def test_children_bind_loopback_and_find_the_project():
    env = _child_env()
    assert env["SANIC_HOST"] == "127.0.0.1"
    from bot import PROJECT_ROOT

    assert env["PYTHONPATH"].split(":")[0] == str(PROJECT_ROOT)
