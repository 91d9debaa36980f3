"""Rasa's structured log events keep no user text once the project's NLU components are loaded."""

from __future__ import annotations

import logging

from bot.nlp.log_privacy import REDACTED, install


def test_a_rest_timeout_logged_the_way_rasa_run_logs_it_has_no_text(caplog):
    import structlog
    from rasa.utils.log_utils import configure_structlog

    configure_structlog(logging.INFO)  # what `rasa run` does at start
    install()  # what importing bot.nlp.risk_component does next
    install()  # idempotent
    with caplog.at_level(logging.INFO):
        structlog.get_logger("rasa.core.channels.rest").error(
            "rest.message.received.timeout", text="my very private message", sender_id="pseudonym-1"
        )
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "my very private message" not in logged
    assert (
        "rest.message.received.timeout" in logged and REDACTED in logged and "pseudonym-1" in logged
    )


def test_the_component_module_installs_it():
    import structlog

    import bot.nlp.risk_component  # noqa: F401
    from bot.nlp.log_privacy import redact_user_text

    assert structlog.get_config()["processors"][0] is redact_user_text
