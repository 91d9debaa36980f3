"""The real PTB Application against the stand-in Bot API and a stand-in Rasa (exact answers, delays)."""

from __future__ import annotations

import random
import time
from typing import Any, Dict, List

import httpx
import pytest

from bot.gateway import MAX_INPUT_CHARS
from bot.privacy.pseudonym import Pseudonymiser
from bot.telegram import texts
from bot.telegram.app import TelegramSettings
from bot.telegram.delivery import utf16_units
from tests.stack import CannedAnswer, RasaRequest, StandInRasa, closed_port_url, free_port
from tests.telegram.fake_bot_api import FakeBotApi
from tests.telegram.harness import Conversation, buttons_of, distinctive_user, wait_until

NON_TEXT_KINDS = ["sticker", "photo", "voice", "video", "document", "location", "contact"]


def messages_to_rasa(rasa: StandInRasa) -> List[str]:
    return [request.message for request in rasa.received()]


def with_buttons(text: str, *buttons: tuple) -> Dict[str, Any]:
    return {
        "recipient_id": "x",
        "text": text,
        "buttons": [{"title": t, "payload": p} for t, p in buttons],
    }


@pytest.fixture
def chat(fake_api: FakeBotApi) -> Conversation:
    return Conversation(fake_api, distinctive_user())


@pytest.fixture(autouse=True)
def rasa_discloses_at_first_contact(stand_in_rasa: StandInRasa) -> None:
    stand_in_rasa.disclose_first = True


@pytest.fixture
def running(start_front_end, stand_in_rasa: StandInRasa):
    return start_front_end(stand_in_rasa.url)


# --- start-up, commands ---------------------------------------------------------------------------


def test_commands_are_registered_at_start(running, fake_api: FakeBotApi) -> None:
    assert fake_api.commands == [{"command": c, "description": d} for c, d in texts.commands(None)]
    assert fake_api.commands_for("nl") == [
        {"command": c, "description": d} for c, d in texts.commands("nl")
    ]
    assert fake_api.commands_for("nl") != fake_api.commands  # a Dutch Telegram shows the Dutch menu
    assert [c["command"] for c in fake_api.commands] == [
        "start",
        "help",
        "resources",
        "stop",
        "forget",
        "privacy",
        "language",
    ]


def test_shutdown_closes_the_gateways_http_client(start_front_end, stand_in_rasa, chat) -> None:
    front_end = start_front_end(stand_in_rasa.url)
    chat.say("hi")
    assert not front_end.gateway.closed
    front_end.stop()
    assert front_end.gateway.closed, "post_shutdown closed the shared client"


def test_start_sends_greet_with_the_pseudonym_and_language_code_only(
    running, chat: Conversation, stand_in_rasa: StandInRasa, pseudonymiser: Pseudonymiser
) -> None:
    replies = chat.say("/start")
    assert "echo: /greet" in [m["text"] for m in replies]
    (request,) = stand_in_rasa.received()
    assert request.raw == {
        "sender": pseudonymiser.pseudonym(chat.user.id),
        "message": "/greet",
        "metadata": {"language_code": "en-GB"},
    }


@pytest.mark.parametrize(
    "command, payload",
    [
        ("/resources", "/request_resources"),
        ("/stop", "/stop"),
        ("/forget", "/delete_data"),
        ("/privacy", "/ask_privacy"),
        (f"/start@{'scrollcheck_test_bot'}", "/greet"),
    ],
)
def test_commands_map_to_rasa_messages(
    running, chat, stand_in_rasa, command: str, payload: str
) -> None:
    chat.say(command)
    assert messages_to_rasa(stand_in_rasa) == [payload]


def test_help_is_answered_locally(running, chat, stand_in_rasa) -> None:
    assert [m["text"] for m in chat.say("/help")] == [texts.text("help", "en")]
    assert stand_in_rasa.received() == []


def test_unknown_commands_and_intent_payloads_never_reach_rasa(
    running, chat, stand_in_rasa
) -> None:
    assert [m["text"] for m in chat.say("/answer_often")] == [texts.text("unknown_command", "en")]
    assert [m["text"] for m in chat.say('/choose_all{"consent": true}')] == [
        texts.text("unknown_command", "en")
    ]
    chat.say("/ hi there")  # starts with a slash but is not a command: the slash goes
    assert messages_to_rasa(stand_in_rasa) == ["hi there"]


def test_replies_are_plain_text_without_parse_mode(running, chat, stand_in_rasa, fake_api) -> None:
    tricky = "Use *stars* and _underscores_ <b>not bold</b> [link](http://x) `code` 1. 2) #tag"
    stand_in_rasa.responder = lambda request: CannedAnswer([{"recipient_id": "x", "text": tricky}])
    assert [m["text"] for m in chat.say("hi")] == [tricky]
    assert all("parse_mode" not in call.params for call in fake_api.calls("sendMessage"))


# --- buttons --------------------------------------------------------------------------------------


def test_button_press_is_acknowledged_keyboard_removed_and_payload_sent(
    running, chat, stand_in_rasa, fake_api
) -> None:
    stand_in_rasa.responder = lambda request: CannedAnswer(
        [
            with_buttons(
                "Question 1 of 5: how often?",
                ("Often", "/answer_often"),
                ("Very often", "/answer_very_often"),
            )
        ]
    )
    (question,) = chat.say("start")
    assert [b["text"] for b in buttons_of(question)] == ["Often", "Very often"]
    stand_in_rasa.responder = lambda request: CannedAnswer(
        [{"recipient_id": "x", "text": "thanks"}]
    )
    before = len(fake_api.calls("answerCallbackQuery"))
    chat.press(question, "Very often")
    assert messages_to_rasa(stand_in_rasa)[-1] == "/answer_very_often"
    assert len(fake_api.calls("answerCallbackQuery")) == before + 1
    assert "reply_markup" not in fake_api.message(chat.chat_id, question["message_id"]), (
        "keyboard removed"
    )


def test_a_second_press_on_the_same_keyboard_is_refused(
    running, chat, stand_in_rasa, fake_api
) -> None:
    stand_in_rasa.responder = lambda request: CannedAnswer(
        [with_buttons("Q?", ("Yes", "/affirm"), ("No", "/deny"))]
    )
    (question,) = chat.say("start")
    first = fake_api.press(chat.user, question, "Yes")
    second = fake_api.press_data(
        chat.user, question, "/deny"
    )  # pressed before the keyboard vanished
    wait_until(lambda: len(fake_api.calls("answerCallbackQuery")) >= 2)
    fake_api.wait_for_turn(chat.chat_id, 1)
    assert messages_to_rasa(stand_in_rasa) == ["start", "/affirm"]
    assert fake_api.answered_callback(first) == ""
    assert fake_api.answered_callback(second) == texts.text("button_already_answered", "en")


def test_an_older_question_loses_its_keyboard_and_its_buttons(
    running, chat, stand_in_rasa, fake_api
) -> None:
    counter = iter(range(1, 100))
    stand_in_rasa.responder = lambda request: CannedAnswer(
        [with_buttons(f"Question {next(counter)} of 5", ("Often", "/answer_often"))]
    )
    (first,) = chat.say("start")
    chat.say("often")  # answered by typing
    assert "reply_markup" not in fake_api.message(chat.chat_id, first["message_id"])
    query = fake_api.press_data(chat.user, first, "/answer_often")
    wait_until(
        lambda: (
            query
            in [c.params.get("callback_query_id") for c in fake_api.calls("answerCallbackQuery")]
        )
    )
    time.sleep(0.3)
    assert messages_to_rasa(stand_in_rasa) == ["start", "often"]
    assert fake_api.answered_callback(query) == texts.text("button_already_answered", "en")


def test_long_payloads_fit_telegrams_64_byte_callback_data(
    running, chat, stand_in_rasa, fake_api
) -> None:
    long_payload = '/inform{"country": "Somewhere with a very long name", "note": "ünïcödé ✓"}'
    assert len(long_payload.encode()) > 64
    stand_in_rasa.responder = lambda request: CannedAnswer(
        [with_buttons("Where?", ("Long", long_payload))]
    )
    (question,) = chat.say("start")
    data = buttons_of(question)[0]["callback_data"]
    assert 1 <= len(data.encode()) <= 64
    chat.press(question, "Long")
    assert messages_to_rasa(stand_in_rasa)[-1] == long_payload


def test_unknown_short_id_after_a_restart_asks_to_type(
    running, chat, stand_in_rasa, fake_api
) -> None:
    stand_in_rasa.responder = lambda request: CannedAnswer(
        [with_buttons("Q?", ("A", "/answer_often"))]
    )
    (question,) = chat.say("start")
    query = fake_api.press_data(chat.user, question, "#" + "0" * 24)
    wait_until(lambda: fake_api.calls("answerCallbackQuery"))
    assert fake_api.answered_callback(query) == texts.text("button_expired", "en")
    assert messages_to_rasa(stand_in_rasa) == ["start"]


def keyboard(message: Dict[str, Any]) -> List[str]:
    return [b["text"] for b in buttons_of(message)]


def test_a_press_answered_by_the_fail_safe_gets_its_buttons_back(
    running, chat, stand_in_rasa, fake_api
) -> None:
    from bot.safety.replies import unavailable_reply

    long_payload = '/answer{"value": "very often", "note": "longer than Telegram\'s 64 bytes"}'
    stand_in_rasa.responder = lambda request: CannedAnswer(
        [with_buttons("Q1: how often?", ("Often", "/answer_often"), ("Very often", long_payload))]
    )
    (question,) = chat.say("start")
    stand_in_rasa.responder = lambda request: CannedAnswer({"error": "boom"}, status=500)
    (fail_safe,) = chat.press(question, "Very often")
    assert (fail_safe["text"], keyboard(fail_safe)) == (
        unavailable_reply("GB"),
        ["Often", "Very often"],
    ), "the fail-safe brings the pressed keyboard back"
    assert keyboard(fake_api.message(chat.chat_id, question["message_id"])) == []

    stale = fake_api.press_data(chat.user, question, "/answer_often")  # the old keyboard stays dead
    wait_until(lambda: stale in [c.params.get("callback_query_id") for c in fake_api.calls()])
    assert fake_api.answered_callback(stale) == texts.text("button_already_answered", "en")

    stand_in_rasa.responder = lambda request: CannedAnswer(
        [with_buttons("Q2: and this?", ("Never", "/answer_never"))]
    )
    (next_question,) = chat.press(fail_safe, "Very often")
    assert (next_question["text"], keyboard(next_question)) == ("Q2: and this?", ["Never"])
    assert keyboard(fake_api.message(chat.chat_id, fail_safe["message_id"])) == []
    assert messages_to_rasa(stand_in_rasa) == ["start", long_payload, long_payload]


def test_a_safety_answer_pressed_while_rasa_is_down_gets_the_crisis_reply_not_its_buttons(
    start_front_end, chat, stand_in_rasa
) -> None:
    from bot.safety import detect
    from bot.safety.replies import acuity_question, check_question, unavailable_reply

    text = "sometimes i wonder if it's worth it"
    result = detect(text, lang="en")
    assert result.level == "check", "a detector change: pick another uncertain message"
    stand_in_rasa.responder = lambda request: CannedAnswer({"error": "boom"}, status=500)
    start_front_end(stand_in_rasa.url)
    prompt = check_question(result, "en")
    (question,) = [m for m in chat.say(text) if m["text"] == prompt.text]
    yes = prompt.buttons[0][0]
    turn = chat.press(question, yes, quiet=1.0)
    assert unavailable_reply("GB") not in [m["text"] for m in turn]
    acuity = acuity_question("en")
    assert [(m["text"], keyboard(m)) for m in turn if buttons_of(m)] in (
        [],
        [(acuity.text, [title for title, _ in acuity.buttons])],
    ), "only the crisis path's own buttons"


# --- robustness -----------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", NON_TEXT_KINDS)
def test_non_text_messages_get_i_can_only_read_text(
    running, chat, stand_in_rasa, fake_api, kind: str
) -> None:
    fake_api.send_non_text(chat.user, kind)
    replies = fake_api.wait_for_turn(chat.chat_id, 0)
    assert [m["text"] for m in replies] == [texts.text("non_text", "en")]
    assert stand_in_rasa.received() == []


def test_a_risky_caption_is_answered_like_text(running, chat, stand_in_rasa, fake_api) -> None:
    fake_api.send_non_text(chat.user, "photo", caption="i want to kill myself")
    fake_api.wait_for_turn(chat.chat_id, 0)
    assert messages_to_rasa(stand_in_rasa) == ["i want to kill myself"]


def test_edited_messages_are_politely_ignored_unless_risky(
    running, chat, stand_in_rasa, fake_api
) -> None:
    original = fake_api.send_text(chat.user, "i feel fine")
    fake_api.wait_for_turn(chat.chat_id, 0)
    fake_api.edit_text(chat.user, original, "i feel great")
    assert [m["text"] for m in fake_api.wait_for_turn(chat.chat_id, 1)] == [
        texts.text("edited_ignored", "en")
    ]
    assert messages_to_rasa(stand_in_rasa) == ["i feel fine"]
    fake_api.edit_text(chat.user, original, "actually i want to die")
    fake_api.wait_for_turn(chat.chat_id, 2)
    assert messages_to_rasa(stand_in_rasa) == ["i feel fine", "actually i want to die"]


def test_group_chats_are_refused_and_left(running, chat, stand_in_rasa, fake_api) -> None:
    group_id = -1000000000000 - random.randint(1, 10**6)
    fake_api.send_group_text(chat.user, group_id, "hi bot")
    replies = fake_api.wait_for_turn(group_id, 0)
    assert [m["text"] for m in replies] == [texts.text("group_refusal", "en")]
    wait_until(lambda: group_id in fake_api.left_chats)
    assert stand_in_rasa.received() == []


def test_long_inbound_messages_are_truncated_with_a_note(running, chat, stand_in_rasa) -> None:
    text = "blah " * 800  # 4000 characters: Telegram allows it, we read 2000
    replies = chat.say(text)
    (sent,) = messages_to_rasa(stand_in_rasa)
    assert len(sent) <= MAX_INPUT_CHARS
    assert str(MAX_INPUT_CHARS) in replies[0]["text"]


def test_long_replies_are_split_at_4096_with_buttons_on_the_last_part(
    running, chat, stand_in_rasa, fake_api
) -> None:
    paragraphs = [f"Paragraph {i}: " + "scrolling 🙂 " * 60 for i in range(20)]
    long_text = "\n\n".join(paragraphs)
    assert utf16_units(long_text) > 3 * 4096
    stand_in_rasa.responder = lambda request: CannedAnswer(
        [with_buttons(long_text, ("OK", "/affirm"))]
    )
    parts = chat.say("tell me everything")
    assert len(parts) >= 4
    assert all(utf16_units(m["text"]) <= 4096 for m in parts)
    assert [bool(buttons_of(m)) for m in parts] == [False] * (len(parts) - 1) + [True]
    assert "".join(m["text"] for m in parts).replace("\n", "").replace(
        " ", ""
    ) == long_text.replace("\n", "").replace(" ", "")
    assert all(m["text"].startswith("Paragraph") for m in parts), "split at paragraph boundaries"


def test_a_quick_answer_comes_without_a_typing_indicator(
    running, chat, stand_in_rasa, fake_api
) -> None:
    stand_in_rasa.responder = lambda request: CannedAnswer(
        [{"recipient_id": "x", "text": "quick"}], delay=0.1
    )
    assert [m["text"] for m in chat.say("hello", until="quick")] == ["quick"]
    assert not [
        c for c in fake_api.calls("sendChatAction") if c.params["chat_id"] == chat.chat_id
    ], "no 'typing…' flash (and no Bot API call) for an answer that comes at once"


def test_typing_indicator_is_shown_while_rasa_thinks(
    running, chat, stand_in_rasa, fake_api
) -> None:
    # typing… from 0.7 s, refreshed every 4 s: an answer after 5.5 s sees it twice
    stand_in_rasa.responder = lambda request: CannedAnswer(
        [{"recipient_id": "x", "text": "slow"}], delay=5.5
    )
    from bot.safety.replies import busy_note

    sent = chat.say("hello", timeout=30, until="slow")
    assert [m["text"] for m in sent] == [busy_note("en"), "slow"], (
        "a late answer is announced, then comes"
    )
    actions = [c for c in fake_api.calls("sendChatAction") if c.params["chat_id"] == chat.chat_id]
    reply = [
        c
        for c in fake_api.calls("sendMessage")
        if c.params["chat_id"] == chat.chat_id and c.params["text"] == "slow"
    ][0]
    assert len(actions) >= 2, "refreshed while the answer takes longer than Telegram shows it"
    assert all(a.params["action"] == "typing" and a.at < reply.at for a in actions)


def test_twenty_chats_at_once_keep_their_own_order_and_run_concurrently(
    running, fake_api: FakeBotApi, stand_in_rasa: StandInRasa
) -> None:
    def responder(request: RasaRequest) -> CannedAnswer:
        # Earlier messages are slower: any reordering inside a chat would show.
        number = int(request.message.rsplit(" ", 1)[1])
        return CannedAnswer(
            [{"recipient_id": request.sender, "text": f"reply to {request.message}"}],
            delay=0.05 * (6 - number) + random.uniform(0, 0.05),
        )

    stand_in_rasa.responder = responder
    users = [distinctive_user() for _ in range(20)]
    started = time.monotonic()
    for number in range(1, 6):
        for user in users:
            fake_api.send_text(user, f"message {number}")
    for user in users:
        fake_api.wait_for_messages(user.id, 5, timeout=60)
    elapsed = time.monotonic() - started
    for user in users:
        replies = [t for t in fake_api.texts(user.id) if t.startswith("reply to")]
        assert replies == [f"reply to message {n}" for n in range(1, 6)]
    serial = sum(0.05 * (6 - n) for n in range(1, 6)) * len(
        users
    )  # 15 s if chats waited on each other
    assert elapsed < serial / 3, f"20 chats took {elapsed:.1f} s"


def test_a_flooding_chat_is_slowed_without_delaying_others(
    start_front_end, stand_in_rasa, fake_api
) -> None:
    front_end = start_front_end(stand_in_rasa.url)
    stand_in_rasa.responder = lambda request: CannedAnswer(
        [{"recipient_id": request.sender, "text": f"reply to {request.message}"}], delay=0.1
    )
    flooder, calm = distinctive_user(), distinctive_user()
    for number in range(60):
        fake_api.send_text(flooder, f"spam {number}")
    fake_api.send_text(flooder, "i want to kill myself")  # never dropped, even in a flood
    time.sleep(0.3)
    started = time.monotonic()
    fake_api.send_text(calm, "hello")
    wait_until(lambda: "reply to hello" in fake_api.texts(calm.id), timeout=10)
    assert time.monotonic() - started < 2.0, "the calm chat waited for the flooder"
    from bot.safety import detect
    from bot.safety.replies import crisis_reply

    crisis_first = crisis_reply(detect("i want to kill myself"), "GB").messages[0]
    wait_until(lambda: crisis_first in fake_api.texts(flooder.id), timeout=60)
    wait_until(
        lambda: "i want to kill myself" in messages_to_rasa(stand_in_rasa)
    )  # asked after the reply
    flooder_texts = fake_api.texts(flooder.id)
    answered = [t for t in flooder_texts if t.startswith("reply to spam")]
    assert flooder_texts.count(texts.text("flood_notice", "en")) == 1
    assert len(answered) <= front_end.front_end.lanes.max_pending + 1, "the backlog is bounded"
    assert answered == sorted(answered, key=lambda t: int(t.rsplit(" ", 1)[1])), "still in order"


def test_429_from_telegram_is_retried_after_retry_after(running, chat, fake_api) -> None:
    fake_api.fail_next("sendMessage", status=429, retry_after=1)
    started = time.monotonic()
    replies = chat.say("hello")
    assert [m["text"] for m in replies][-1] == "echo: hello"
    sends = fake_api.calls("sendMessage")
    assert sends[0].status == 429 and sends[1].status == 200
    assert sends[1].at - sends[0].at >= 1.0
    assert time.monotonic() - started < 10


def test_network_errors_are_retried_with_backoff(running, chat, fake_api) -> None:
    fake_api.fail_next("sendMessage", status=502, times=2)
    replies = chat.say("hello", timeout=30)
    assert "echo: hello" in [m["text"] for m in replies]
    statuses = [c.status for c in fake_api.calls("sendMessage")]
    assert statuses[:3] == [502, 502, 200]
    sends = fake_api.calls("sendMessage")
    assert sends[1].at - sends[0].at >= 0.25 and sends[2].at - sends[1].at >= 0.5, "backoff grows"


def test_rasa_down_gets_unavailable_and_risk_gets_crisis_resources(
    start_front_end, fake_api, chat
) -> None:
    from bot.safety import detect
    from bot.safety.replies import crisis_reply, unavailable_reply

    start_front_end(closed_port_url(), timeout=2.0)
    replies = chat.say("hi")
    assert unavailable_reply("GB") in [m["text"] for m in replies]
    replies = chat.say("i want to kill myself")
    expected = crisis_reply(detect("i want to kill myself"), "GB").messages
    assert [m["text"] for m in replies][: len(expected)] == list(expected)


def test_crisis_reply_reaches_the_chat_before_a_slow_rasa_answers_and_only_once(
    start_front_end, stand_in_rasa: StandInRasa, fake_api: FakeBotApi, chat: Conversation
) -> None:
    from bot.safety import detect
    from bot.safety.replies import acuity_question, crisis_reply

    risk_text = "i want to kill myself"
    result = detect(risk_text, lang="en")
    crisis = list(crisis_reply(result, "GB", "en").messages)
    acuity = acuity_question("en")
    answered_at: List[float] = []

    def slow_rasa(request: RasaRequest) -> CannedAnswer:
        answered_at.append(time.monotonic() + 8.0)
        # As agreed: after `safety_replied` Rasa repeats nothing and asks only the follow-up.
        assert (request.metadata or {}).get("safety_replied") is True
        return CannedAnswer([with_buttons(acuity.text, *acuity.buttons)], delay=8.0)

    stand_in_rasa.responder = slow_rasa
    start_front_end(stand_in_rasa.url, timeout=10.0)
    sent_at = time.monotonic()
    fake_api.send_text(chat.user, risk_text)
    wait_until(lambda: crisis[-1] in fake_api.texts(chat.chat_id), timeout=5)
    first_reply = [c for c in fake_api.calls("sendMessage") if c.params["chat_id"] == chat.chat_id][
        0
    ]
    assert first_reply.at - sent_at < 2.0, f"the crisis reply took {first_reply.at - sent_at:.2f} s"
    assert acuity.text not in fake_api.texts(chat.chat_id), "Rasa has not answered yet"
    (request,) = wait_until(lambda: stand_in_rasa.received())
    assert request.metadata == {
        "language_code": "en-GB",
        "risk": result.as_dict(),
        "safety_replied": True,
    }
    wait_until(lambda: acuity.text in fake_api.texts(chat.chat_id), timeout=15)
    assert time.monotonic() >= answered_at[0] - 0.1
    time.sleep(0.5)
    assert fake_api.texts(chat.chat_id) == [*crisis, acuity.text], (
        "one crisis reply, then Rasa's follow-up"
    )


def test_a_crisis_reply_does_not_wait_behind_the_chats_slow_earlier_turn(
    start_front_end, stand_in_rasa: StandInRasa, fake_api: FakeBotApi, chat: Conversation
) -> None:
    """Rasa busy: "hi" waits 6 s for its answer; the risk message sent meanwhile gets its crisis
    reply within 2 s, ahead of "hi"'s answer, and only once; its own turn then follows in order."""
    from bot.safety import detect
    from bot.safety.replies import acuity_question, crisis_reply

    risk_text = "i want to kill myself"
    crisis = list(crisis_reply(detect(risk_text, lang="en"), "GB", "en").messages)
    acuity = acuity_question("en")

    def busy_rasa(request: RasaRequest) -> CannedAnswer:
        if request.message == "hi":
            return CannedAnswer([{"recipient_id": "x", "text": "hello there"}], delay=6.0)
        assert (request.metadata or {}).get("safety_replied") is True
        return CannedAnswer([with_buttons(acuity.text, *acuity.buttons)])

    stand_in_rasa.responder = busy_rasa
    start_front_end(stand_in_rasa.url, timeout=10.0, busy_after=None)
    fake_api.send_text(chat.user, "hi")
    wait_until(lambda: stand_in_rasa.received())
    sent_at = time.monotonic()
    fake_api.send_text(chat.user, risk_text)
    wait_until(lambda: crisis[-1] in fake_api.texts(chat.chat_id), timeout=5)
    first = [c for c in fake_api.calls("sendMessage") if c.params["chat_id"] == chat.chat_id][0]
    assert first.at - sent_at < 2.0, f"the crisis reply took {first.at - sent_at:.2f} s"
    assert "hello there" not in fake_api.texts(chat.chat_id), "ahead of the earlier turn's answer"
    wait_until(lambda: acuity.text in fake_api.texts(chat.chat_id), timeout=15)
    time.sleep(0.5)
    assert fake_api.texts(chat.chat_id) == [*crisis, "hello there", acuity.text], (
        "the crisis reply once, then both turns in order"
    )


def test_error_handler_logs_type_and_pseudonym_only(
    running, chat, fake_api, production_logging, pseudonymiser
) -> None:
    fake_api.fail_next("sendMessage", status=400)
    chat.api.send_text(chat.user, "hello")
    wait_until(lambda: "BadRequest" in production_logging.text)
    assert (
        f"telegram error for {pseudonymiser.pseudonym(chat.user.id)}: BadRequest"
        in production_logging.text
    )
    for value in (str(chat.user.id), chat.user.first_name, chat.user.username, "hello"):
        assert value not in production_logging.text


# --- webhook mode ---------------------------------------------------------------------------------


def test_webhook_mode_sets_the_secret_and_refuses_requests_without_it(
    start_front_end, stand_in_rasa, fake_api: FakeBotApi, chat: Conversation
) -> None:
    port, secret = free_port(), "s3cret_Token-for-tests"
    settings = TelegramSettings(
        token=fake_api.token,
        base_url=fake_api.base_url,
        webhook_url="https://bot.example.org/telegram/hook",
        webhook_listen="127.0.0.1",
        webhook_port=port,
        webhook_secret=secret,
    )
    start_front_end(stand_in_rasa.url, settings=settings)
    webhook = fake_api.webhook
    assert (
        webhook["url"] == "https://bot.example.org/telegram/hook"
        and webhook["secret_token"] == secret
    )
    update = {
        "update_id": 1,
        "message": {
            "message_id": 1,
            "date": int(time.time()),
            "chat": chat.user.as_private_chat(),
            "from": chat.user.as_user(),
            "text": "hello via webhook",
        },
    }
    fake_api.register_chat(chat.user)
    local = f"http://127.0.0.1:{port}/telegram/hook"
    assert httpx.post(local, json=update).status_code == 403
    assert (
        httpx.post(
            local, json=update, headers={"X-Telegram-Bot-Api-Secret-Token": "wrong"}
        ).status_code
        == 403
    )
    time.sleep(0.5)
    assert stand_in_rasa.received() == [], "nothing from a refused request reached Rasa"
    assert (
        httpx.post(
            local, json=update, headers={"X-Telegram-Bot-Api-Secret-Token": secret}
        ).status_code
        == 200
    )
    fake_api.wait_for_turn(chat.chat_id, 0)
    assert messages_to_rasa(stand_in_rasa) == ["hello via webhook"]
