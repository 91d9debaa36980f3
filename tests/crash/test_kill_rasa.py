"""kill -9 Rasa in the middle of a check-in, then start it again.

While it is down every message gets the gateway's fail-safe ("can't chat for a moment", with the
help numbers), a risk message still gets the crisis reply with the UK numbers at once; after the
restart a greeting brings back the question that was open, and the check-in goes on to the end
with every answer, before and after the crash, in the stored tracker and the topic summary.
"""

from __future__ import annotations

import pytest

from bot.safety import detect
from bot.safety.replies import acuity_question, crisis_reply, unavailable_reply
from tests.crash.harness import SCALE, Chat, CrashStack, question, start_comparison_checkin

pytestmark = pytest.mark.rasa

RISK_TEXT = "honestly i want to kill myself"
COUNTRY = "GB"


def test_rasa_killed_mid_checkin_fail_safe_then_resume(crash_stack: CrashStack, chat: Chat) -> None:
    start_comparison_checkin(chat, ["Often", "Rarely"])  # question 3 is open
    slots = crash_stack.tracker_slots(chat.pseudonym)
    assert (slots.get("comparison_1"), slots.get("comparison_2"), slots.get("comparison_3")) == (
        4,
        2,
        None,
    )

    pid = crash_stack.kill("rasa")
    down = ["sometimes", "hello? are you there", "why is this not working"]
    for text in down:
        since = chat.send(text)
        assert chat.wait_for_replies(since, 1, quiet=1.0) == [unavailable_reply(COUNTRY)], text
    since = chat.send(RISK_TEXT)
    seen = chat.wait_for_text(since, acuity_question().text)
    expected = crisis_reply(detect(RISK_TEXT), COUNTRY)
    assert seen[: len(expected.messages)] == list(expected.messages), (
        "crisis numbers while Rasa is down"
    )
    assert "Samaritans: call 116 123" in "\n".join(seen) and "999" in "\n".join(seen)
    assert seen.count(acuity_question().text) == 1
    assert crash_stack.tracker_slots(chat.pseudonym) == slots, (
        "nothing reached the tracker while Rasa was down"
    )

    restart_seconds = crash_stack.restart("rasa")
    since = chat.press("No")  # the gateway's own follow-up question, answered after the restart
    chat.wait_for_replies(since, 1)
    since = chat.send("hi")
    seen = chat.wait_for_text(since, question(3))
    assert not any(question(n) in text for text in seen for n in (1, 2, 4, 5)), seen
    for number, title in ((3, "Sometimes"), (4, "Very often"), (5, "Never")):
        since = chat.press(title)
        if number < 5:
            chat.wait_for_text(since, question(number + 1))
        else:
            chat.wait_for_button(since, "Yes, share it")  # the topic's feedback came before it
    answers = {
        "comparison_1": 4,
        "comparison_2": 2,
        "comparison_3": SCALE["Sometimes"],
        "comparison_4": SCALE["Very often"],
        "comparison_5": SCALE["Never"],
    }
    slots = crash_stack.tracker_slots(chat.pseudonym)
    assert {item: slots.get(item) for item in answers} == answers
    assert crash_stack.item_answers(chat.pseudonym, "comparison") == answers, (
        "the topic summary has all five"
    )
    print(
        f"\n[crash] rasa pid {pid} killed (SIGKILL); {len(down)} messages + 1 risk message while down: "
        f"{len(down)} fail-safe replies, 1 crisis reply; back in {restart_seconds:.1f} s; "
        f"resumed at question 3 with 2 earlier answers kept, 5/5 answers stored"
    )
