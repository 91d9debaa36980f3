"""The gateway against a stand-in Rasa over real HTTP on loopback: what the user ends up seeing.

Texts come from bot.safety.replies (data/safety/replies.yml) and verdicts from bot.safety.detect,
so these tests check the gateway's behaviour, not the wording or the detector's figures.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any, Callable, Dict, List, Optional, Tuple

import pytest

import bot.safety
from bot.gateway import (
    MAX_INPUT_CHARS,
    Button,
    Gateway,
    Reply,
    bound_length,
    normalise_whitespace,
    user_language,
)
from bot.safety import RiskResult, detect
from bot.safety import replies as safety_texts
from bot.safety.replies import (
    acuity_question,
    check_question,
    crisis_reply,
    unavailable_reply,
    urgent_reply,
)
from tests.stack import CannedAnswer, RasaRequest, StandInRasa, closed_port_url

P = "pseudonym-under-test"
URGENT_TEXT = "i'm going to kill myself tonight, i have the pills ready"
# The detector changes as it learns: each test takes the first text it rates as needed.
CONCERN_CANDIDATES = (
    "i keep thinking about killing myself",
    "i wish i was dead",
    "i don't want to be here anymore",
)
CHECK_CANDIDATES = ("sometimes i wonder if it's worth it", "i hate myself")  # uncertain signals
RASA_SLOW_SECONDS = 8.0


def texts(replies: List[Reply]) -> List[str]:
    return [reply.text for reply in replies]


def control(**payload: Any) -> Dict[str, Any]:
    return {"recipient_id": P, "custom": {"scrollcheck": payload}}


def said(text: str, **extra: Any) -> Dict[str, Any]:
    return {"recipient_id": P, "text": text, **extra}


def answer_with(server: StandInRasa, *messages: Dict[str, Any]) -> None:
    server.responder = lambda request: CannedAnswer(list(messages))


def as_buttons(pairs) -> List[Dict[str, str]]:
    return [{"title": title, "payload": payload} for title, payload in pairs]


def rasa_keeping_the_agreement(delay: float = 0.0) -> Callable[[RasaRequest], CannedAnswer]:
    """What Rasa does per the gateway/Rasa agreement: after `safety_replied` it repeats nothing
    and only asks the follow-up (the acuity question after a non-urgent self-harm signal)."""

    def responder(request: RasaRequest) -> CannedAnswer:
        metadata = request.metadata or {}
        if metadata.get("safety_replied"):
            risk = RiskResult.from_dict(metadata.get("risk"))
            body: List[Dict[str, Any]] = []
            if risk is not None and risk.level == "concern" and risk.category == "self_harm":
                prompt = acuity_question("en")
                body = [said(prompt.text, buttons=as_buttons(prompt.buttons))]
            return CannedAnswer(body, delay=delay)
        return CannedAnswer([said(f"echo: {request.message}")], delay=delay)

    return responder


def collector() -> Tuple[List[Tuple[float, List[Reply]]], Callable]:
    """A `send` for Gateway.handle that records when each early batch arrived."""
    shown: List[Tuple[float, List[Reply]]] = []

    async def send(replies: List[Reply]) -> None:
        shown.append((time.monotonic(), list(replies)))

    return shown, send


def rated(level: str, candidates: Tuple[str, ...]) -> Tuple[str, RiskResult]:
    for text in candidates:
        result = detect(text, lang="en")
        if result.level == level and (level != "concern" or result.category == "self_harm"):
            return text, result
    pytest.fail(f"the detector rates none of {candidates} as `{level}` (a detector change?)")


def check_text() -> Tuple[str, RiskResult]:
    return rated("check", CHECK_CANDIDATES)


@pytest.fixture(scope="module")
def risk_text() -> str:
    """A non-urgent self-harm message: crisis resources, then the acuity question."""
    return rated("concern", CONCERN_CANDIDATES)[0]


def new_gateway(url: str, **kwargs: Any) -> Gateway:
    gateway = Gateway(url, **kwargs)
    gateway.disclosure.mark_disclosed(P)  # most tests are about other things than the reminder
    return gateway


@pytest.fixture
async def gateway(stand_in_rasa: StandInRasa):
    gateway = new_gateway(stand_in_rasa.url, timeout=2.0)
    yield gateway
    await gateway.aclose()


@pytest.fixture
async def rasa_down():
    gateway = new_gateway(closed_port_url(), timeout=2.0)
    yield gateway
    await gateway.aclose()


# --- what Rasa receives ------------------------------------------------------------------------


async def test_rasa_gets_the_pseudonym_normalised_text_and_only_the_language_code(
    gateway, stand_in_rasa
) -> None:
    replies = await gateway.handle(P, "  hello\n\n  there\t😀 ", language_code="en-GB")
    assert texts(replies) == ["echo: hello there 😀"]
    (request,) = stand_in_rasa.received()
    assert request.raw == {
        "sender": P,
        "message": "hello there 😀",
        "metadata": {"language_code": "en-GB"},
    }


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
    assert str(MAX_INPUT_CHARS) in replies[0].text
    assert replies[1].text == "echo: " + sent


def test_bound_length_cuts_at_a_word_when_one_is_near() -> None:
    assert bound_length("short", 10) == ("short", False)
    cut, truncated = bound_length("aaaaaaaaa bbbbbbbbb cccc", 22)
    assert truncated and cut == "aaaaaaaaa bbbbbbbbb"
    cut, truncated = bound_length(
        "aaaa bbbbbbbbbbbbbbbbbbbb", 12
    )  # no space near the end: hard cut
    assert truncated and cut == "aaaa bbbbbbb"
    cut, truncated = bound_length("x" * 30, 12)
    assert truncated and cut == "x" * 12


def test_whitespace_normalisation_keeps_emoji_sequences() -> None:
    family = "👩\u200d👩\u200d👧"
    assert normalise_whitespace(f"a\u00a0\u2003b \r\n{family}\x1b") == f"a b {family}"


@pytest.mark.parametrize(
    "code, lang",
    [
        ("nl", "nl"),
        ("nl-BE", "nl"),
        ("nl_NL", "nl"),
        ("en-GB", "en"),
        ("EN", "en"),
        (None, None),
        ("", None),
    ],
)
def test_user_language_is_the_language_of_telegrams_code(
    code: Optional[str], lang: Optional[str]
) -> None:
    assert user_language(code) == lang


# --- Rasa's answer: buttons and control messages -------------------------------------------------


async def test_buttons_and_texts_come_back_in_order(gateway, stand_in_rasa) -> None:
    answer_with(
        stand_in_rasa,
        said(
            "Question 1 of 5: how often?",
            buttons=[
                {"title": "Often", "payload": "/answer_often"},
                {"title": "Skip", "payload": "/skip_question"},
            ],
        ),
        said("second"),
    )
    replies = await gateway.handle(P, "go")
    assert replies == [
        Reply(
            "Question 1 of 5: how often?",
            (Button("Often", "/answer_often"), Button("Skip", "/skip_question")),
        ),
        Reply("second"),
    ]


async def test_control_messages_are_never_shown_and_other_customs_are_ignored(
    gateway, stand_in_rasa
) -> None:
    answer_with(
        stand_in_rasa,
        said("visible"),
        control(country="GB"),
        {"recipient_id": P, "custom": {"other": 1}},
        {"recipient_id": P, "image": "https://example.org/x.png"},
    )
    assert texts(await gateway.handle(P, "hi")) == ["visible"]


async def test_country_control_is_remembered_for_the_fail_safe(gateway, stand_in_rasa) -> None:
    answer_with(stand_in_rasa, said("Thanks"), control(country="DE"))
    await gateway.handle(P, "Germany", language_code="en-US")
    assert gateway.country_for(P, "en-US") == "DE"
    stand_in_rasa.responder = lambda request: CannedAnswer(status=503)
    replies = await gateway.handle(P, "hello?", language_code="en-US")
    assert texts(replies) == [unavailable_reply("DE", "en")]
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
        if request.message != "/affirm":
            return CannedAnswer([said("noted")])
        return CannedAnswer([said("Done, everything is erased."), control(erase=True)])

    stand_in_rasa.responder = responder
    gateway = new_gateway(
        stand_in_rasa.url, erase=lambda p: (order.append("erased"), erased.append(p))
    )
    gateway._countries.set(P, "GB")
    await gateway.handle(P, "something to remember")
    replies = await gateway.handle(P, "/affirm")
    assert texts(replies) == ["Done, everything is erased."]
    assert erased == [P] and order == ["rasa answered", "rasa answered", "erased"]
    assert gateway.country_for(P) is None and gateway.disclosure.last_disclosure(P) is None
    assert gateway.context.recent(P) == (), "the chat's last messages are erased too"


async def test_a_failed_erasure_is_told_to_the_user(stand_in_rasa, caplog) -> None:
    def broken(pseudonym: str) -> None:
        raise RuntimeError("database is locked: secret detail")

    answer_with(stand_in_rasa, said("Done, everything is erased."), control(erase=True))
    gateway = new_gateway(stand_in_rasa.url, erase=broken)
    with caplog.at_level(logging.INFO, logger="bot"):
        replies = await gateway.handle(P, "/affirm")
    assert texts(replies) == [safety_texts.erase_failed("en")], "never 'done' when it was not"
    assert "RuntimeError" in caplog.text and "secret detail" not in caplog.text
    assert P not in caplog.text, "the person who asked to be forgotten is not named in the logs"


# --- the fast path: the safety reply never waits for Rasa ------------------------------------------


async def test_risk_messages_get_one_crisis_reply_within_2_s_while_rasa_takes_8_s(
    stand_in_rasa, risk_text: str
) -> None:
    """20 chats at once, Rasa answering each after 8 s: every crisis reply is out within 2 s, once."""
    stand_in_rasa.responder = rasa_keeping_the_agreement(delay=RASA_SLOW_SECONDS)
    gateway = Gateway(stand_in_rasa.url, timeout=10.0)
    chats = [f"{P}-{number}" for number in range(20)]
    for chat in chats:
        gateway.disclosure.mark_disclosed(chat)
    result = detect(risk_text, lang="en")
    crisis = crisis_reply(result, "GB", "en").messages
    acuity = acuity_question("en").text
    assert result.level == "concern" and result.category == "self_harm"

    async def one(chat: str) -> Tuple[float, List[Tuple[float, List[Reply]]], List[Reply], float]:
        shown, send = collector()
        started = time.monotonic()
        rest = await gateway.handle(chat, risk_text, language_code="en-GB", send=send)
        return started, shown, rest, time.monotonic()

    try:
        outcomes = await asyncio.gather(*(one(chat) for chat in chats))
    finally:
        await gateway.aclose()
    for started, shown, rest, ended in outcomes:
        ((early_at, early),) = shown
        assert texts(early) == list(crisis)
        assert early_at - started < 2.0, f"crisis reply after {early_at - started:.2f} s"
        assert ended - started >= RASA_SLOW_SECONDS - 0.5, "Rasa's answer was waited for"
        assert texts(rest) == [acuity], "Rasa asks the follow-up and repeats nothing"
        assert (texts(early) + texts(rest)).count(crisis[0]) == 1
    requests = stand_in_rasa.received()
    assert sorted(r.sender for r in requests) == sorted(chats)
    for request in requests:
        assert request.metadata == {
            "language_code": "en-GB",
            "risk": result.as_dict(),
            "safety_replied": True,
        }


async def test_rasa_timing_out_adds_only_the_follow_up_never_a_second_crisis_reply(
    stand_in_rasa, risk_text: str
) -> None:
    stand_in_rasa.responder = rasa_keeping_the_agreement(delay=RASA_SLOW_SECONDS)
    gateway = new_gateway(stand_in_rasa.url, timeout=1.0)
    shown, send = collector()
    rest = await gateway.handle(P, risk_text, language_code="en-GB", send=send)
    await gateway.aclose()
    crisis = crisis_reply(detect(risk_text, lang="en"), "GB", "en").messages
    assert [texts(batch) for _, batch in shown] == [list(crisis)]
    assert texts(rest) == [acuity_question("en").text]
    assert [b.title for b in rest[0].buttons] == [
        title for title, _ in acuity_question("en").buttons
    ]


async def test_urgent_message_gets_the_emergency_number_first_and_rasas_empty_answer_is_fine(
    stand_in_rasa,
) -> None:
    stand_in_rasa.responder = rasa_keeping_the_agreement()
    gateway = new_gateway(stand_in_rasa.url, timeout=2.0)
    shown, send = collector()
    rest = await gateway.handle(P, URGENT_TEXT, language_code="en-US", send=send)
    await gateway.aclose()
    result = detect(URGENT_TEXT, lang="en")
    assert result.level == "urgent"
    ((_, early),) = shown
    assert (
        texts(early) == list(crisis_reply(result, "US", "en").messages) and "911" in early[0].text
    )
    assert rest == [], "Rasa's [] after the gateway's reply is not a failure"


async def test_unknown_country_crisis_reply_ends_with_the_country_buttons(rasa_down) -> None:
    replies = await rasa_down.handle(P, URGENT_TEXT, language_code="en")  # "en" names no country
    crisis = crisis_reply(detect(URGENT_TEXT, lang="en"), None, "en")
    assert crisis.buttons, "an unknown country is asked for"
    assert texts(replies) == list(crisis.messages)
    assert replies[-1].buttons == tuple(Button(t, p) for t, p in crisis.buttons)


async def test_check_level_message_gets_the_direct_question_once_and_yes_the_crisis_reply(
    stand_in_rasa,
) -> None:
    text, result = check_text()
    stand_in_rasa.responder = rasa_keeping_the_agreement()
    gateway = new_gateway(stand_in_rasa.url, timeout=2.0)
    prompt = check_question(result, "en")
    shown, send = collector()
    rest = await gateway.handle(P, text, language_code="en-GB", send=send)
    ((_, early),) = shown
    assert early == [Reply(prompt.text, tuple(Button(t, p) for t, p in prompt.buttons))]
    assert rest == []
    assert stand_in_rasa.received()[-1].metadata == {
        "language_code": "en-GB",
        "risk": result.as_dict(),
        "safety_replied": True,
    }
    # "Yes" (the button) gets the crisis reply for that category at once; Rasa is told.
    yes_payload = prompt.buttons[0][1]
    shown, send = collector()
    rest = await gateway.handle(P, yes_payload, language_code="en-GB", send=send)
    await gateway.aclose()
    concern = RiskResult("concern", result.category, result.matched, result.lang)
    ((_, early),) = shown
    assert texts(early) == list(crisis_reply(concern, "GB", "en").messages)
    request = stand_in_rasa.received()[-1]
    assert request.message == yes_payload and request.metadata["safety_replied"] is True
    assert request.metadata["risk"]["level"] == "concern"
    if result.category == "self_harm":
        assert texts(rest) == [acuity_question("en").text]


@pytest.mark.parametrize(
    "first, second",
    [
        ("nothing matters anymore", "sometimes i think about ending it"),
        ("i want to die", "tonight"),
    ],
)
async def test_the_chats_last_messages_are_read_with_the_new_one(
    gateway, stand_in_rasa, first: str, second: str
) -> None:
    stand_in_rasa.responder = rasa_keeping_the_agreement()
    await gateway.handle(P, first, language_code="en-GB")
    shown, send = collector()
    await gateway.handle(P, second, language_code="en-GB", send=send)
    together = detect(second, lang="en", context=(first,))
    assert together.is_crisis, f"{first!r} then {second!r} is read as one (a detector change?)"
    # (If the first message got the direct question, the second also answers it: either way at
    # least the reading of both together reaches the user and Rasa.)
    told = RiskResult.from_dict(stand_in_rasa.received()[-1].metadata["risk"])
    assert (told.level, told.category) == (together.level, together.category)
    ((_, early),) = shown
    assert texts(early) == list(crisis_reply(told, "GB", "en").messages)


async def test_detect_runs_once_per_message_with_at_most_three_earlier_ones(
    gateway, stand_in_rasa, monkeypatch
) -> None:
    calls: List[Tuple[str, Optional[str], Tuple[str, ...]]] = []
    real = bot.safety.detect

    def recording(text: str, lang: Optional[str] = None, context=()):
        calls.append((text, lang, tuple(context)))
        return real(text, lang=lang, context=context)

    monkeypatch.setattr(bot.safety, "detect", recording)
    for text in ("one", "two", "/affirm", "three", "four"):
        await gateway.handle(P, text, language_code="nl-BE")
    await gateway.handle("someone else", "hoi")
    assert calls == [
        ("one", "nl", ()),
        ("two", "nl", ("one",)),  # a button payload is neither read nor remembered
        # a chat with no language code reads in the default language (data/languages.yml)
        ("three", "nl", ("one", "two")),
        ("four", "nl", ("one", "two", "three")),
        ("hoi", "en", ()),
    ]
    gateway.forget(P)
    await gateway.handle(P, "five")
    assert calls[-1] == ("five", "en", ())


async def test_rasa_repeating_the_gateways_safety_text_is_shown_once(
    gateway, stand_in_rasa, risk_text: str
) -> None:
    crisis = crisis_reply(detect(risk_text, lang="en"), "GB", "en").messages
    answer_with(stand_in_rasa, *[said(message) for message in crisis], said("and something new"))
    replies = await gateway.handle(P, risk_text, language_code="en-GB")
    assert texts(replies) == [*crisis, "and something new"]


async def test_a_failed_early_send_is_returned_with_the_rest(gateway, stand_in_rasa) -> None:
    stand_in_rasa.responder = rasa_keeping_the_agreement()

    async def broken(replies: List[Reply]) -> None:
        raise ConnectionError("telegram unreachable")

    replies = await gateway.handle(P, URGENT_TEXT, language_code="en-GB", send=broken)
    assert texts(replies) == list(crisis_reply(detect(URGENT_TEXT, lang="en"), "GB", "en").messages)


# --- the fail-safe: Rasa down, slow or broken ---------------------------------------------------


@pytest.mark.parametrize(
    "failure",
    [
        CannedAnswer(status=500, raw_text="Internal Server Error"),
        CannedAnswer(status=404, body={"error": "no rest channel"}),
        CannedAnswer(body=[]),  # what Rasa answers when the action server is down
        CannedAnswer(body=[control(country="GB")]),  # nothing to show is as bad as nothing
        CannedAnswer(body={"status": "failure"}),
        CannedAnswer(raw_text="<html>oops</html>"),
    ],
    ids=["500", "404", "empty list", "only a control", "not a list", "not json"],
)
async def test_rasa_errors_get_the_unavailable_reply(gateway, stand_in_rasa, failure) -> None:
    stand_in_rasa.responder = lambda request: failure
    replies = await gateway.handle(P, "how are you", language_code="en-GB")
    assert texts(replies) == [unavailable_reply("GB", "en")]


async def test_rasa_down_risk_message_gets_crisis_resources_and_the_acuity_question(
    rasa_down, risk_text: str
) -> None:
    replies = await rasa_down.handle(P, risk_text, language_code="en-GB")
    expected = crisis_reply(detect(risk_text, lang="en"), "GB", "en")
    assert expected.ask_acuity, "a non-urgent self-harm message asks the acuity question"
    assert texts(replies) == [*expected.messages, acuity_question("en").text]
    assert [b.title for b in replies[-1].buttons] == [
        title for title, _ in acuity_question("en").buttons
    ]


async def test_rasa_down_acuity_yes_gets_the_urgent_reply_then_yes_is_ordinary(
    rasa_down, risk_text: str
) -> None:
    await rasa_down.handle(P, risk_text, language_code="en-US")
    assert texts(await rasa_down.handle(P, "Yes", language_code="en-US")) == list(
        urgent_reply("US", "en")
    )
    # The question was answered: a later "yes" is an ordinary message again.
    assert texts(await rasa_down.handle(P, "yes", language_code="en-US")) == [
        unavailable_reply("US", "en")
    ]


async def test_rasa_down_acuity_no_is_answered_and_not_read_as_a_new_crisis(
    rasa_down, risk_text: str
) -> None:
    await rasa_down.handle(P, risk_text, language_code="en-GB")
    replies = await rasa_down.handle(P, "no", language_code="en-GB")
    assert texts(replies) == [safety_texts.acuity_no_reply("en", in_checkin=False).text]


async def test_rasa_down_a_non_answer_is_asked_again_once_then_counts_as_yes(
    rasa_down, risk_text: str
) -> None:
    await rasa_down.handle(P, risk_text, language_code="en-GB")
    replies = await rasa_down.handle(P, "what do you mean", language_code="en-GB")
    assert texts(replies) == [safety_texts.answer_reask("en").text]
    assert texts(await rasa_down.handle(P, "pizza", language_code="en-GB")) == list(
        urgent_reply("GB", "en")
    )


async def test_a_dutch_user_gets_dutch_replies_and_help_for_their_country(rasa_down) -> None:
    text = "ik wil niet meer leven"
    result = detect(text, lang="nl")
    assert result.is_crisis, "a Dutch cry for help is read (a detector change?)"
    replies = await rasa_down.handle(P, text, language_code="nl-BE")
    crisis = crisis_reply(result, "BE", "nl")
    assert texts(replies)[: len(crisis.messages)] == list(crisis.messages)
    assert texts(await rasa_down.handle(P + "-2", "hoi", language_code="nl-BE")) == [
        safety_texts.disclosure_reminder("nl"),
        unavailable_reply("BE", "nl"),
    ]


async def test_rasa_down_check_question_answers(rasa_down) -> None:
    text, result = check_text()
    assert texts(await rasa_down.handle(P, text, language_code="en-GB")) == [
        check_question(result, "en").text
    ]
    assert texts(await rasa_down.handle(P, "nope", language_code="en-GB")) == [
        safety_texts.check_no_reply("en")
    ]
    other = P + "-2"
    rasa_down.disclosure.mark_disclosed(other)
    await rasa_down.handle(other, text, language_code="en-GB")
    replies = await rasa_down.handle(other, "idk", language_code="en-GB")  # unsure counts as yes
    concern = crisis_reply(
        RiskResult("concern", result.category, result.matched, result.lang), "GB", "en"
    )
    assert texts(replies)[: len(concern.messages)] == list(concern.messages)
    assert texts(replies)[len(concern.messages) :] == (
        [acuity_question("en").text] if concern.ask_acuity else []
    )


async def test_timeout_is_bounded(stand_in_rasa) -> None:
    stand_in_rasa.responder = lambda request: CannedAnswer([said("too late")], delay=5.0)
    gateway = new_gateway(stand_in_rasa.url, timeout=0.5)
    started = time.monotonic()
    replies = await gateway.handle(P, "hello", language_code="en-GB")
    elapsed = time.monotonic() - started
    await gateway.aclose()
    assert elapsed < 1.5, f"the fail-safe answered after {elapsed:.2f} s"
    assert texts(replies) == [unavailable_reply("GB", "en")]


async def test_risk_hidden_past_the_length_bound_still_gets_crisis_resources(
    gateway, stand_in_rasa, risk_text: str
) -> None:
    text = "so today was a normal day at school " * 70 + risk_text  # the risk is past 2000 chars
    assert not detect(text[:MAX_INPUT_CHARS], lang="en").is_risk
    replies = await gateway.handle(P, text, language_code="en-GB")
    crisis = crisis_reply(detect(text, lang="en"), "GB", "en")
    assert texts(replies)[: len(crisis.messages)] == list(crisis.messages)
    assert stand_in_rasa.received()[0].metadata["risk"] == detect(text, lang="en").as_dict()


async def test_a_broken_safety_layer_still_points_to_help(monkeypatch, risk_text: str) -> None:
    def broken(text: str, lang: Optional[str] = None, context=()):
        raise RuntimeError("lexicon failed to load")

    monkeypatch.setattr(bot.safety, "detect", broken)
    gateway = new_gateway(closed_port_url(), timeout=1.0)
    assert texts(await gateway.handle(P, risk_text)) == [safety_texts.last_resort_reply("en")]


async def test_logs_hold_pseudonyms_and_exception_types_only(caplog, risk_text: str) -> None:
    secret_text = "my secret words " + risk_text
    gateway = Gateway(closed_port_url(), timeout=1.0)
    with caplog.at_level(logging.DEBUG, logger="bot"):
        await gateway.handle(P, secret_text, language_code="en-GB")
    assert P in caplog.text and "ClientConnectorError" in caplog.text
    assert "secret words" not in caplog.text and "kill" not in caplog.text


async def test_rasa_is_ready_follows_get_root(stand_in_rasa) -> None:
    gateway = Gateway(stand_in_rasa.url)
    assert await gateway.rasa_is_ready()
    stand_in_rasa.root_status = 503
    assert not await gateway.rasa_is_ready()
    assert not await Gateway(closed_port_url()).rasa_is_ready()
    await gateway.aclose()


# --- a dead action server behind a living Rasa ----------------------------------------------------


async def test_action_server_health_is_asked_rarely_and_again_when_rasa_answers_nothing(
    stand_in_rasa, risk_text: str
) -> None:
    gateway = new_gateway(stand_in_rasa.url, action_url=stand_in_rasa.action_url, timeout=2.0)
    await asyncio.gather(*(gateway.handle(f"{P}-{n}", "hello") for n in range(30)))
    await gateway.handle(P, "hello again")
    assert gateway.action_health.requests == 1, "one /health for 31 messages within its TTL"
    stand_in_rasa.health_status = 503
    answer_with(stand_in_rasa)  # a dead action server: Rasa answers []
    assert texts(await gateway.handle(P, "hello", language_code="en-GB")) == [
        unavailable_reply("GB", "en")
    ]
    assert gateway.action_health.requests == 2
    # A risk message: the crisis reply is out; [] plus a dead action server means the follow-up is missing.
    replies = await gateway.handle(P, risk_text, language_code="en-GB")
    crisis = crisis_reply(detect(risk_text, lang="en"), "GB", "en").messages
    assert texts(replies) == [*crisis, acuity_question("en").text]
    await gateway.aclose()


async def test_action_server_down_is_detected_even_when_rasa_answers_text(
    stand_in_rasa, risk_text: str
) -> None:
    # What a real Rasa answers when its custom actions cannot run: a misleading fallback text.
    answer_with(stand_in_rasa, said("Sorry, I didn't understand that."))
    gateway = new_gateway(
        stand_in_rasa.url, action_url=stand_in_rasa.action_url, timeout=2.0, health_ttl=0.0
    )
    assert texts(await gateway.handle(P, "hello", language_code="en-GB")) == [
        "Sorry, I didn't understand that."
    ]
    stand_in_rasa.health_status = 503
    assert texts(await gateway.handle(P, "hello", language_code="en-GB")) == [
        unavailable_reply("GB", "en")
    ]
    replies = await gateway.handle(P, risk_text, language_code="en-GB")
    crisis = crisis_reply(detect(risk_text, lang="en"), "GB", "en").messages
    assert texts(replies) == [*crisis, acuity_question("en").text]
    await gateway.aclose()


async def test_unreachable_action_server_counts_as_down(stand_in_rasa) -> None:
    gateway = new_gateway(stand_in_rasa.url, action_url=closed_port_url() + "/webhook", timeout=2.0)
    assert not await gateway.action_server_is_up()
    assert texts(await gateway.handle(P, "hello")) == [unavailable_reply(None, "en")]
    await gateway.aclose()


def test_health_url_is_derived_from_the_webhook_url() -> None:
    from bot.gateway import action_health_url

    assert action_health_url("http://127.0.0.1:5055/webhook") == "http://127.0.0.1:5055/health"
    assert (
        action_health_url("https://actions.internal:8443/custom/webhook?x=1")
        == "https://actions.internal:8443/health"
    )


async def test_the_chats_language_follows_the_user_not_a_one_word_answer(
    gateway, stand_in_rasa
) -> None:
    # Telegram's code first; then a clear Dutch sentence; a lone "ok" changes nothing; a
    # language button wins; /forget drops what was remembered.
    assert gateway.language_for(P, "en-GB") == "en"
    await gateway.handle(P, "ok", language_code="en-GB")
    assert gateway.language_for(P, "en-GB") == "en"
    await gateway.handle(P, "ik vergelijk mezelf echt heel vaak met anderen", language_code="en-GB")
    assert gateway.language_for(P, "en-GB") == "nl"
    await gateway.handle(P, "ok", language_code="en-GB")
    assert gateway.language_for(P, "en-GB") == "nl"
    await gateway.handle(P, '/change_language{"language":"en"}', language_code="en-GB")
    assert gateway.language_for(P, "en-GB") == "en"
    gateway.forget(P)
    assert gateway.language_for(P, "nl-BE") == "nl"
    assert gateway.language_for(P, "de") == "en"


async def test_a_slow_answer_is_announced_within_2_s_and_a_quick_one_is_not(stand_in_rasa) -> None:
    from bot.safety.replies import busy_note

    gateway = new_gateway(stand_in_rasa.url, timeout=10.0)
    assert gateway.warm_up_safety()  # as the front ends do at start: no model loads mid-turn
    try:
        stand_in_rasa.responder = rasa_keeping_the_agreement(delay=3.0)
        shown, send = collector()
        started = time.monotonic()
        rest = await gateway.handle(
            P, "waarom vraag je dat eigenlijk", language_code="nl", send=send
        )
        ((noted_at, note),) = shown
        assert texts(note) == [busy_note("nl")] and noted_at - started < 2.0
        assert texts(rest) == ["echo: waarom vraag je dat eigenlijk"], "the answer follows, once"
        # Still slow a moment later: no second note (Telegram's "typing…" shows it is coming).
        shown, send = collector()
        rest = await gateway.handle(P, "vaak denk ik", language_code="nl", send=send)
        assert shown == [] and texts(rest) == ["echo: vaak denk ik"]
        stand_in_rasa.responder = rasa_keeping_the_agreement(delay=0.0)
        gateway.disclosure.mark_disclosed(f"{P}-other")
        shown, send = collector()
        rest = await gateway.handle(f"{P}-other", "and again", language_code="nl", send=send)
        assert shown == [] and texts(rest) == ["echo: and again"]
        assert gateway.busy_notes == 1
    finally:
        await gateway.aclose()


async def test_a_crisis_reply_shown_ahead_is_not_sent_again_by_its_turn(
    gateway, stand_in_rasa
) -> None:
    """crisis_ahead (a risk message queued behind a slow turn of its chat): the crisis messages
    now, and the turn later sends only what comes after them. Nothing for a direct check
    (its question must come in order) or for a message without risk."""
    from bot.safety.replies import crisis_reply

    stand_in_rasa.responder = rasa_keeping_the_agreement()
    text, check_result = check_text()
    assert gateway.crisis_ahead(P, "hello, how are you") == []
    assert gateway.crisis_ahead(P, text, language_code="en-GB") == [], (
        f"{check_result.level}: asked in its turn"
    )
    crisis = crisis_reply(detect(URGENT_TEXT, lang="en"), "GB", "en").messages
    ahead = gateway.crisis_ahead(P, URGENT_TEXT, language_code="en-GB")
    assert texts(ahead) == list(crisis)
    shown, send = collector()
    rest = await gateway.handle(P, URGENT_TEXT, language_code="en-GB", send=send)
    assert not any(t in crisis for _, early in shown for t in texts(early)) and not any(
        t in crisis for t in texts(rest)
    ), "the crisis reply is shown once"
    assert stand_in_rasa.received()[-1].metadata["safety_replied"] is True, (
        "Rasa adds only the follow-up"
    )
