"""The same generated texts straight through the gateway (bot/gateway, bot/safety), without
Telegram: faster, so Hypothesis's own Unicode (st.text, with its edge cases) is used here too.

Each example is one message from one of 40 chats (so chat context, open safety questions and
language switches build up), posted by the real Gateway over HTTP to a stand-in Rasa. Checked
per message: the gateway never raises and always answers; Rasa gets exactly the normalised text
(no control characters, at most MAX_INPUT_CHARS), in the chat's order; a risk phrase gets its
safety reply before Rasa's; the detector gives a valid, repeatable result. Over the run: nothing at
ERROR, and no generated text in any log record.
"""

from __future__ import annotations

import asyncio
import logging
import unicodedata
from typing import Dict, List

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from bot.gateway import MAX_INPUT_CHARS, Gateway
from bot.gateway.text import bound_length, normalise_whitespace
from bot.safety import LEVELS, detect
from tests.fuzz import logscan, oracle
from tests.fuzz.strategies import RISK_PHRASES, texts
from tests.stack import StandInRasa

EXAMPLES = 400
PSEUDONYMS = [f"{i:064x}" for i in range(1, 41)]

MESSAGES = st.one_of(
    texts(), st.text(min_size=1, max_size=60).map(lambda t: ("hypothesis_text", t))
)


def test_generated_texts_through_the_gateway_and_the_detector() -> None:
    rasa = StandInRasa(oracle.fuzz_responder).start()
    loop = asyncio.new_event_loop()
    gateway = Gateway(rasa.url, busy_after=None)
    sent: Dict[str, List[str]] = {p: [] for p in PSEUDONYMS}
    generated: List[str] = []
    kinds: Dict[str, int] = {}
    try:
        with logscan.production_logging() as capture:

            @settings(
                max_examples=EXAMPLES,
                derandomize=True,
                database=None,
                deadline=None,
                phases=[Phase.generate],
                print_blob=False,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
            )
            @given(
                MESSAGES,
                st.sampled_from(PSEUDONYMS),
                st.sampled_from([None, "en", "nl-BE", "xx", "\u202e"]),
            )
            def one_message(tagged, pseudonym: str, language_code) -> None:
                kind, text = tagged
                kinds[kind] = kinds.get(kind, 0) + 1
                generated.append(text)
                before = len(rasa.requests)
                replies = loop.run_until_complete(
                    gateway.handle(pseudonym, text, language_code=language_code)
                )
                readable, _ = bound_length(normalise_whitespace(text), MAX_INPUT_CHARS)
                got = [r.message for r in rasa.requests[before:]]
                if not readable:
                    assert replies == [] and got == [], (
                        "nothing readable: nothing to Rasa, nothing said"
                    )
                    return
                assert got == [readable], "Rasa gets the normalised, bounded text, once"
                assert len(readable) <= MAX_INPUT_CHARS
                assert not any(unicodedata.category(ch) == "Cc" for ch in readable)
                sent[pseudonym].append(readable)
                assert replies and all(isinstance(r.text, str) and r.text.strip() for r in replies)
                texts_out = [r.text for r in replies]
                assert oracle.ack_for(readable) in texts_out, "Rasa's answer is shown"
                if kind == "risk":
                    assert texts_out.index(oracle.ack_for(readable)) > 0, (
                        "the safety reply comes first"
                    )
                result = detect(normalise_whitespace(text), lang="en")
                assert (
                    result.level in LEVELS
                    and detect(normalise_whitespace(text), lang="en") == result
                )

            one_message()
        loop.run_until_complete(gateway.aclose())
    finally:
        loop.close()
        rasa.stop()

    by_sender: Dict[str, List[str]] = {}
    for request in rasa.received():
        by_sender.setdefault(request.sender, []).append(request.message)
    for pseudonym in PSEUDONYMS:
        assert by_sender.get(pseudonym, []) == sent[pseudonym], (
            "each chat's messages reach Rasa in order"
        )
    assert any(k == "risk" for k in kinds) and detect(RISK_PHRASES[0], lang="en").is_risk
    assert not capture.at_least(logging.ERROR), capture.at_least(logging.ERROR)[:3]
    assert not logscan.offending_args(capture.records), logscan.offending_args(capture.records)[:5]
    found = list(logscan.leaks(capture.lines, oracle.needles(generated)))
    assert not found, f"generated text in the logs: {found[:3]!r}"
    assert sum(kinds.values()) == EXAMPLES
    print({"gateway_inputs": sum(kinds.values()), "by_kind": dict(sorted(kinds.items()))})
