"""A Dutch-speaking user end to end: the real front end, the stand-in Bot API, the real Rasa.

What a young person whose Telegram is set to Dutch sees: the greeting, consent and questions in
Dutch; the language button and /language switching in the middle of the check-in without losing
an answer; Flemish help numbers for nl-BE. Texts come from domain.yml's `nl` variations, the
screening YAML and bot.safety, so rewording does not break these tests.
"""

from __future__ import annotations

from typing import Any, Dict, List

import pytest

from bot.safety.replies import resources_text
from bot.screening.content import screening
from bot.telegram import texts
from tests.dialogue.helpers import variation
from tests.stack import RasaStack
from tests.telegram.fake_bot_api import FakeBotApi
from tests.telegram.harness import Conversation, buttons_of, distinctive_user, last_with_buttons

pytestmark = pytest.mark.rasa


def text(name: str, lang: str, **values: Any) -> str:
    return variation(name, lang)["text"].format(**values)


def texts_of(messages: List[Dict[str, Any]]) -> List[str]:
    return [m["text"] for m in messages]


def titles(messages: List[Dict[str, Any]]) -> List[str]:
    question = last_with_buttons(messages)
    assert question is not None, texts_of(messages)
    return [b["text"] for b in buttons_of(question)]


def item_question(item_id: str, number: int, lang: str) -> str:
    item = screening().topic_of_item(item_id).item(item_id)
    return text("utter_item_question", lang, number=number, total=5, question=item.text[lang])


@pytest.fixture
def running(start_front_end, rasa_stack: RasaStack, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("DATABASE_URL", rasa_stack.database_url)
    # Whole turns are asserted here; the "busy" note is tested against a stand-in Rasa instead.
    return start_front_end(
        rasa_stack.rasa_url, action_url=rasa_stack.action_url, timeout=20.0, busy_after=None
    )


def test_a_dutch_telegram_gets_the_check_in_in_dutch_and_can_switch_midway(
    running, fake_api: FakeBotApi
) -> None:
    chat = Conversation(fake_api, distinctive_user(language_code="nl"))
    turn = chat.say("/start")
    assert text("utter_disclosure", "nl") in texts_of(turn)
    assert text("utter_ask_consent", "nl") in texts_of(turn)
    assert titles(turn) == ["Ja, dat is goed", "Nee, niet bewaren", "English"]
    turn = chat.press(last_with_buttons(turn), "Ja, dat is goed")
    assert texts_of(turn) == [text("utter_ask_age_band", "nl")]
    turn = chat.say("ik ben 15")
    assert texts_of(turn) == [text("utter_ask_country", "nl")]
    turn = chat.say("belgië")
    assert texts_of(turn)[-1] == text("utter_ask_topics", "nl")
    topic = screening().topics["fomo"]
    assert titles(turn) == [t.button["nl"] for t in screening().topics.values()] + [
        screening().all_topics.button["nl"]
    ]
    turn = chat.press(last_with_buttons(turn), topic.button["nl"])
    assert item_question("fomo_1", 1, "nl") in texts_of(turn)
    assert titles(turn) == [p.label["nl"] for p in screening().scale] + [
        screening().skip.label["nl"]
    ]
    turn = chat.say("vaak")  # typed Dutch answer
    assert item_question("fomo_2", 2, "nl") in texts_of(turn)
    # The user switches to English in the middle: the same question again, in English.
    turn = chat.say("/language en")
    assert texts_of(turn) == [
        text("utter_language_changed", "en"),
        item_question("fomo_2", 2, "en"),
    ]
    assert texts.text("help", "en") == chat.say("/help")[0]["text"]  # the front end follows too
    turn = chat.say("sometimes")
    assert item_question("fomo_3", 3, "en") in texts_of(turn)
    # And back to Dutch by writing Dutch: the answer counts and the next question is Dutch.
    turn = chat.say("heel vaak eigenlijk, ik check het de hele tijd")
    assert item_question("fomo_4", 4, "nl") in texts_of(turn)
    turn = chat.press(last_with_buttons(turn), "Nooit")
    turn = chat.press(last_with_buttons(turn), "Zelden")
    joined = "\n".join(texts_of(turn))
    assert topic.title["nl"] + ":" in joined  # the feedback, in Dutch, with every answer kept
    assert text("utter_ask_share_results", "nl") in texts_of(turn)


def test_nl_be_shows_the_flemish_numbers_in_dutch(running, fake_api: FakeBotApi) -> None:
    chat = Conversation(fake_api, distinctive_user(language_code="nl-BE"))
    chat.say("/start")
    turn = chat.say("/resources")
    shown = "\n".join(texts_of(turn))
    assert resources_text("BE", "nl") in shown
    for number in ("1813", "102", "106"):
        assert number in shown


def test_the_language_button_and_command_work_from_the_first_question(
    running, fake_api: FakeBotApi
) -> None:
    chat = Conversation(fake_api, distinctive_user(language_code="en-GB"))
    turn = chat.say("/start")
    assert text("utter_ask_consent", "en") in texts_of(turn)
    turn = chat.press(last_with_buttons(turn), "Nederlands")
    assert texts_of(turn) == [text("utter_language_changed", "nl"), text("utter_ask_consent", "nl")]
    assert chat.say("/help")[0]["text"] == texts.text("help", "nl")
    # /language alone: the front end asks; the open question waits; a tap switches and re-asks it.
    turn = chat.say("/language")
    assert texts_of(turn) == [texts.text("language_question", "nl")]
    assert titles(turn) == ["English", "Nederlands"]
    turn = chat.press(last_with_buttons(turn), "English")
    assert texts_of(turn) == [text("utter_language_changed", "en"), text("utter_ask_consent", "en")]
    # A typed request without naming a language: with two languages, the other one.
    turn = chat.say("can we switch the language please")
    assert texts_of(turn) == [text("utter_language_changed", "nl"), text("utter_ask_consent", "nl")]
