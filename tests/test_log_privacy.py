"""Rasa's structured log events lose every text-bearing field once the NLU components are loaded."""
from __future__ import annotations

import bot.nlp.risk_component  # noqa: F401 — importing it is what installs the redaction in `rasa run`
from bot.nlp.log_privacy import REDACTED


def test_rasas_own_anonymizer_redacts_the_user_text_of_a_rest_timeout():
    from rasa.utils.log_utils import _anonymizer

    event = {"event": "rest.message.received.timeout", "text": "i want to tell you a secret", "user_message": "hi",
             "slot_values": {"country": "NL"}, "sender_id": "pseudonym-1"}
    out = _anonymizer(None, "error", dict(event))
    assert out["text"] == out["user_message"] == out["slot_values"] == REDACTED
    assert out["event"] == "rest.message.received.timeout" and out["sender_id"] == "pseudonym-1"

