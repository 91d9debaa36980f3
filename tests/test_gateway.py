"""The gateway against a stand-in Rasa over real HTTP on loopback: what the user ends up seeing."""
from __future__ import annotations

import logging
import time
from typing import Any, Dict, List

import pytest

from bot.gateway import (
    ERASE_FAILED,
    LAST_RESORT_REPLY,
    MAX_INPUT_CHARS,
    Button,
    Gateway,
    Reply,
    bound_length,
    normalise_whitespace,
    parse_acuity_answer,
)
from bot.safety import detect
from bot.safety.replies import acuity_question, crisis_reply, unavailable_reply
from tests.stack import CannedAnswer, RasaRequest, StandInRasa, closed_port_url

P = "pseudonym-under-test"
RISK_TEXT = "i want to kill myself"
URGENT_TEXT = "i'm going to kill myself tonight, i have the pills ready"


def texts(replies: List[Reply]) -> List[str]:
    return [reply.text for reply in replies]


def control(**payload: Any) -> Dict[str, Any]:
    return {"recipient_id": P, "custom": {"scrollcheck": payload}}


def said(text: str, **extra: Any) -> Dict[str, Any]:
    return {"recipient_id": P, "text": text, **extra}


def answer_with(server: StandInRasa, *messages: Dict[str, Any]) -> None:
    server.responder = lambda request: CannedAnswer(list(messages))


@pytest.fixture
async def gateway(stand_in_rasa: StandInRasa):
    gateway = Gateway(stand_in_rasa.url, timeout=2.0)
    gateway.disclosure.mark_disclosed(P)  # most tests are about other things than the reminder
    yield gateway
    await gateway.aclose()


# --- what Rasa receives ------------------------------------------------------------------------

async def test_rasa_gets_the_pseudonym_normalised_text_and_only_the_language_code(gateway, stand_in_rasa) -> None:
    replies = await gateway.handle(P, "  hello\n\n  there\t😀 ", language_code="en-GB")
    assert texts(replies) == ["echo: hello there 😀"]
    (request,) = stand_in_rasa.received()
    assert request.raw == {"sender": P, "message": "hello there 😀", "metadata": {"language_code": "en-GB"}}


async def test_no_metadata_without_a_language_code(gateway, stand_in_rasa) -> None:
    await gateway.handle(P, "hi")
    assert "metadata" not in stand_in_rasa.received()[0].raw


async def test_blank_text_is_not_sent(gateway, stand_in_rasa) -> None:
    assert await gateway.handle(P, " \n\t\x00 ") == []
    assert stand_in_rasa.received() == []


async def test_long_text_is_bounded_with_a_note_first(gateway, stand_in_rasa) -> None:
    text = ("word " * 700).strip()  # 3499 characters
    replies = await gateway.handle(P, text)
    sent = stand_in_rasa.received()[0].message
    assert len(sent) <= MAX_INPUT_CHARS and text.startswith(sent) and not sent.endswith(" ")
    assert str(MAX_INPUT_CHARS) in replies[0].text and "first" in replies[0].text
    assert replies[1].text == "echo: " + sent


def test_bound_length_cuts_at_a_word_when_one_is_near() -> None:
    assert bound_length("short", 10) == ("short", False)
    cut, truncated = bound_length("aaaaaaaaa bbbbbbbbb cccc", 22)
    assert truncated and cut == "aaaaaaaaa bbbbbbbbb"
    cut, truncated = bound_length("aaaa bbbbbbbbbbbbbbbbbbbb", 12)  # no space near the end: hard cut
    assert truncated and cut == "aaaa bbbbbbb"
    cut, truncated = bound_length("x" * 30, 12)
    assert truncated and cut == "x" * 12


def test_whitespace_normalisation_keeps_emoji_sequences() -> None:
    family = "👩\u200d👩\u200d👧"
    assert normalise_whitespace(f"a\u00a0\u2003b \r\n{family}\x1b") == f"a b {family}"


# --- Rasa's answer: buttons and control messages -------------------------------------------------

async def test_buttons_and_texts_come_back_in_order(gateway, stand_in_rasa) -> None:
    answer_with(stand_in_rasa,
                said("Question 1 of 5: how often?", buttons=[{"title": "Often", "payload": "/answer_often"},
                                                             {"title": "Skip", "payload": "/skip_question"}]),
                said("second"))
    replies = await gateway.handle(P, "go")
    assert replies == [
        Reply("Question 1 of 5: how often?", (Button("Often", "/answer_often"), Button("Skip", "/skip_question"))),
        Reply("second"),
    ]


async def test_control_messages_are_never_shown_and_other_customs_are_ignored(gateway, stand_in_rasa) -> None:
    answer_with(stand_in_rasa, said("visible"), control(country="GB"), {"recipient_id": P, "custom": {"other": 1}},
                {"recipient_id": P, "image": "https://example.org/x.png"})
    assert texts(await gateway.handle(P, "hi")) == ["visible"]


async def test_country_control_is_remembered_for_the_fail_safe(gateway, stand_in_rasa) -> None:
    answer_with(stand_in_rasa, said("Thanks"), control(country="DE"))
    await gateway.handle(P, "Germany", language_code="en-US")
    assert gateway.country_for(P, "en-US") == "DE"
    stand_in_rasa.responder = lambda request: CannedAnswer(status=503)
    replies = await gateway.handle(P, "hello?", language_code="en-US")
    assert texts(replies) == [unavailable_reply("DE")]
    # A null country ("somewhere else") falls back to the language code, then to nothing.
    answer_with(stand_in_rasa, said("OK"), control(country=None))
    await gateway.handle(P, "somewhere else")
    assert gateway.country_for(P, "en-US") == "US"
    assert gateway.country_for(P, None) is None


async def test_erase_control_erases_after_the_turn_and_forgets_the_user(stand_in_rasa) -> None:
    erased: List[str] = []
    order: List[str] = []

    def responder(request: RasaRequest) -> CannedAnswer:
        order.append("rasa answered")
        return CannedAnswer([said("Done, everything is erased."), control(erase=True)])

    stand_in_rasa.responder = responder
    gateway = Gateway(stand_in_rasa.url, erase=lambda p: (order.append("erased"), erased.append(p)))
    gateway.disclosure.mark_disclosed(P)
    gateway._countries.set(P, "GB")
    replies = await gateway.handle(P, "/affirm")
    assert texts(replies) == ["Done, everything is erased."]
    assert erased == [P] and order == ["rasa answered", "erased"]
    assert gateway.country_for(P) is None and gateway.disclosure.last_disclosure(P) is None


async def test_a_failed_erasure_is_told_to_the_user(stand_in_rasa, caplog) -> None:
    def broken(pseudonym: str) -> None:
        raise RuntimeError("database is locked: secret detail")

    answer_with(stand_in_rasa, said("Done, everything is erased."), control(erase=True))
    gateway = Gateway(stand_in_rasa.url, erase=broken)
    gateway.disclosure.mark_disclosed(P)
    with caplog.at_level(logging.INFO, logger="bot"):
        replies = await gateway.handle(P, "/affirm")
    assert texts(replies)[-1] == ERASE_FAILED
    assert "RuntimeError" in caplog.text and "secret detail" not in caplog.text


# --- the fail-safe ------------------------------------------------------------------------------

@pytest.mark.parametrize("failure", [
    CannedAnswer(status=500, raw_text="Internal Server Error"),
    CannedAnswer(status=502, raw_text="bad gateway"),
    CannedAnswer(status=404, body={"error": "no rest channel"}),
    CannedAnswer(body=[]),  # what Rasa answers when the action server is down
    CannedAnswer(body=[control(country="GB")]),  # nothing to show is as bad as nothing
    CannedAnswer(body={"status": "failure"}),
    CannedAnswer(raw_text="<html>oops</html>"),
], ids=["500", "502", "404", "empty list", "only a control", "not a list", "not json"])
async def test_rasa_errors_get_the_unavailable_reply(gateway, stand_in_rasa, failure) -> None:
    stand_in_rasa.responder = lambda request: failure
    replies = await gateway.handle(P, "how are you", language_code="en-GB")
    assert texts(replies) == [unavailable_reply("GB")]


async def test_rasa_down_risk_message_gets_crisis_resources_and_the_acuity_question() -> None:
    gateway = Gateway(closed_port_url(), timeout=2.0)
    gateway.disclosure.mark_disclosed(P)
    replies = await gateway.handle(P, RISK_TEXT, language_code="en-GB")
    expected = crisis_reply(detect(RISK_TEXT), "GB")
    assert texts(replies)[: len(expected.messages)] == list(expected.messages)
    assert expected.ask_acuity, "a non-urgent self-harm message asks the acuity question"
    assert replies[-1].text == acuity_question()
    assert [b.title for b in replies[-1].buttons] == ["Yes", "No"]


async def test_acuity_answer_yes_after_the_fail_safe_gets_the_urgent_reply() -> None:
    from bot.safety.replies import urgent_reply

    gateway = Gateway(closed_port_url(), timeout=2.0)
    gateway.disclosure.mark_disclosed(P)
    await gateway.handle(P, RISK_TEXT, language_code="en-US")
    assert texts(await gateway.handle(P, "Yes", language_code="en-US")) == list(urgent_reply("US"))
    # The question was answered: a later "yes" is an ordinary message again.
    assert texts(await gateway.handle(P, "yes", language_code="en-US")) == [unavailable_reply("US")]


async def test_acuity_answer_no_after_the_fail_safe_keeps_resources_in_view(stand_in_rasa) -> None:
    gateway = Gateway(closed_port_url(), timeout=2.0)
    gateway.disclosure.mark_disclosed(P)
    await gateway.handle(P, RISK_TEXT)
    replies = await gateway.handle(P, "No")
    assert len(replies) == 1 and "help numbers" in replies[0].text


@pytest.mark.parametrize("text, expected", [
    ("yes", True), ("Yeah…", True), ("yh", True), ("idk", True), ("not sure", True), ("maybe", True),
    ("i am", True), ("no", False), ("nope", False), ("nah i'm ok", False), ("I’m not", False),
    ("not right now", False), ("what do you mean", None), ("pizza", None),
])
def test_acuity_answers_unsure_counts_as_yes(text: str, expected) -> None:
    assert parse_acuity_answer(text) is expected


async def test_urgent_message_while_rasa_is_down_puts_the_emergency_number_first() -> None:
    gateway = Gateway(closed_port_url(), timeout=2.0)
    gateway.disclosure.mark_disclosed(P)
    replies = await gateway.handle(P, URGENT_TEXT, language_code="en-US")
    result = detect(URGENT_TEXT)
    assert result.level == "urgent"
    assert texts(replies) == list(crisis_reply(result, "US").messages)
    assert "911" in replies[0].text


async def test_timeout_is_bounded(stand_in_rasa) -> None:
    stand_in_rasa.responder = lambda request: CannedAnswer([said("too late")], delay=5.0)
    gateway = Gateway(stand_in_rasa.url, timeout=0.5)
    gateway.disclosure.mark_disclosed(P)
    started = time.monotonic()
    replies = await gateway.handle(P, "hello", language_code="en-GB")
    elapsed = time.monotonic() - started
    assert elapsed < 1.5, f"the fail-safe answered after {elapsed:.2f} s"
    assert texts(replies) == [unavailable_reply("GB")]


async def test_timeout_with_a_risk_message_still_gets_crisis_resources(stand_in_rasa) -> None:
    stand_in_rasa.responder = lambda request: CannedAnswer([said("too late")], delay=5.0)
    gateway = Gateway(stand_in_rasa.url, timeout=0.5)
    gateway.disclosure.mark_disclosed(P)
    replies = await gateway.handle(P, RISK_TEXT, language_code="en-GB")
    assert texts(replies)[0] == crisis_reply(detect(RISK_TEXT), "GB").messages[0]


async def test_risk_hidden_past_the_length_bound_still_gets_crisis_resources(gateway, stand_in_rasa) -> None:
    text = "so today was a normal day at school " * 70 + RISK_TEXT  # the risk is past 2000 chars
    assert not detect(text[:MAX_INPUT_CHARS]).is_risk
    replies = await gateway.handle(P, text, language_code="en-GB")
    crisis = crisis_reply(detect(text), "GB")
    assert texts(replies)[: len(crisis.messages)] == list(crisis.messages)
    assert any(t.startswith("echo: ") for t in texts(replies)), "Rasa's own reply is still shown"


async def test_a_broken_safety_layer_still_points_to_help(stand_in_rasa, monkeypatch) -> None:
    import bot.safety

    def broken(text: str, lang: str = "en"):
        raise RuntimeError("lexicon failed to load")

    monkeypatch.setattr(bot.safety, "detect", broken)
    gateway = Gateway(closed_port_url(), timeout=1.0)
    gateway.disclosure.mark_disclosed(P)
    assert texts(await gateway.handle(P, RISK_TEXT)) == [LAST_RESORT_REPLY]


async def test_logs_hold_pseudonyms_and_exception_types_only(stand_in_rasa, caplog) -> None:
    secret_text = "my secret words " + RISK_TEXT
    gateway = Gateway(closed_port_url(), timeout=1.0)
    with caplog.at_level(logging.DEBUG, logger="bot"):
        await gateway.handle(P, secret_text, language_code="en-GB")
    assert P in caplog.text and "ConnectError" in caplog.text
    assert "secret words" not in caplog.text and "kill" not in caplog.text


async def test_rasa_is_ready_follows_get_root(stand_in_rasa) -> None:
    gateway = Gateway(stand_in_rasa.url)
    assert await gateway.rasa_is_ready()
    stand_in_rasa.root_status = 503
    assert not await gateway.rasa_is_ready()
    assert not await Gateway(closed_port_url()).rasa_is_ready()
    await gateway.aclose()


# --- a dead action server behind a living Rasa ----------------------------------------------------

async def test_action_server_down_is_detected_even_when_rasa_answers_text(stand_in_rasa) -> None:
    # What a real Rasa answers when its custom actions cannot run: a misleading fallback text.
    answer_with(stand_in_rasa, said("Sorry, I didn't understand that."))
    gateway = Gateway(stand_in_rasa.url, action_url=stand_in_rasa.action_url, timeout=2.0)
    gateway.disclosure.mark_disclosed(P)
    assert texts(await gateway.handle(P, "hello", language_code="en-GB")) == ["Sorry, I didn't understand that."]
    stand_in_rasa.health_status = 503
    assert texts(await gateway.handle(P, "hello", language_code="en-GB")) == [unavailable_reply("GB")]
    replies = await gateway.handle(P, RISK_TEXT, language_code="en-GB")
    assert texts(replies)[0] == crisis_reply(detect(RISK_TEXT), "GB").messages[0]
    await gateway.aclose()


async def test_unreachable_action_server_counts_as_down(stand_in_rasa) -> None:
    gateway = Gateway(stand_in_rasa.url, action_url=closed_port_url() + "/webhook", timeout=2.0)
    gateway.disclosure.mark_disclosed(P)
    assert not await gateway.action_server_is_up()
    assert texts(await gateway.handle(P, "hello")) == [unavailable_reply(None)]
    await gateway.aclose()


def test_health_url_is_derived_from_the_webhook_url() -> None:
    from bot.gateway import action_health_url

    assert action_health_url("http://127.0.0.1:5055/webhook") == "http://127.0.0.1:5055/health"
    assert action_health_url("https://actions.internal:8443/custom/webhook?x=1") == "https://actions.internal:8443/health"


async def test_risk_message_answered_without_the_crisis_reply_gets_the_fail_safe(stand_in_rasa) -> None:
    # The action server is up but the crisis action failed (e.g. an error inside it): Rasa falls
    # back to a generic text. The gateway notices that the crisis reply is missing.
    answer_with(stand_in_rasa, said("Sorry, I didn't understand that."))
    gateway = Gateway(stand_in_rasa.url, action_url=stand_in_rasa.action_url, timeout=2.0)
    gateway.disclosure.mark_disclosed(P)
    replies = await gateway.handle(P, RISK_TEXT, language_code="en-GB")
    expected = crisis_reply(detect(RISK_TEXT), "GB")
    assert texts(replies)[: len(expected.messages)] == list(expected.messages)
    assert "Sorry, I didn't understand that." not in texts(replies)
    await gateway.aclose()


async def test_rasas_own_crisis_reply_is_passed_through_unchanged(stand_in_rasa) -> None:
    # Rasa knows the user said "Ireland" even if this gateway restarted and does not.
    rasa_crisis = crisis_reply(detect(RISK_TEXT), "IE")
    answer_with(stand_in_rasa, *[said(message) for message in rasa_crisis.messages])
    gateway = Gateway(stand_in_rasa.url, timeout=2.0)
    gateway.disclosure.mark_disclosed(P)
    replies = await gateway.handle(P, RISK_TEXT, language_code="en-US")
    assert texts(replies) == list(rasa_crisis.messages)
    await gateway.aclose()
