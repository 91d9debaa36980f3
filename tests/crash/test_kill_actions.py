"""kill -9 the action server in the middle of a check-in, then start it again.

Rasa itself stays up but cannot run the form's validation or any custom action, and answers with
nothing; the gateway sees that (and the action server's /health) and answers every message with
the fail-safe, a risk message with the crisis numbers. After the restart a greeting brings back
the open question and the check-in goes on with every answer kept.
"""

from __future__ import annotations

import pytest

from bot.safety import detect
from bot.safety.replies import acuity_question, crisis_reply, unavailable_reply
from tests.crash.harness import SCALE, Chat, CrashStack, question, start_comparison_checkin

pytestmark = pytest.mark.rasa

RISK_TEXT = "honestly i want to kill myself"
COUNTRY = "GB"


def test_action_server_killed_mid_checkin_fail_safe_then_resume(
    crash_stack: CrashStack, chat: Chat
) -> None:
    start_comparison_checkin(chat, ["Very often"])  # question 2 is open
    before = crash_stack.tracker_slots(chat.pseudonym)
    assert before.get("comparison_1") == 5 and before.get("comparison_2") is None

    pid = crash_stack.kill("actions")
    down = ["often", "hello?", "sometimes"]
    for text in down:
        since = chat.send(text)
        assert chat.wait_for_replies(since, 1, quiet=1.0) == [unavailable_reply(COUNTRY)], text
    since = chat.send(RISK_TEXT)
    seen = chat.wait_for_text(since, acuity_question().text)
    expected = crisis_reply(detect(RISK_TEXT), COUNTRY)
    assert seen[: len(expected.messages)] == list(expected.messages), (
        "crisis numbers while the actions are down"
    )
    assert seen.count(acuity_question().text) == 1
    slots = crash_stack.tracker_slots(chat.pseudonym)
    assert slots.get("comparison_1") == 5 and slots.get("comparison_2") is None, (
        "no answer was taken while the form could not validate it"
    )

    restart_seconds = crash_stack.restart("actions")
    since = chat.press("No")
    chat.wait_for_replies(since, 1)
    since = chat.send("hi")
    seen = chat.wait_for_text(since, question(2))
    assert not any(question(n) in text for text in seen for n in (1, 3, 4, 5)), seen
    for number, title in ((2, "Often"), (3, "Rarely"), (4, "Sometimes"), (5, "Often")):
        since = chat.press(title)
        if number < 5:
            chat.wait_for_text(since, question(number + 1))
        else:
            chat.wait_for_button(since, "Yes, share it")
    answers = {
        "comparison_1": 5,
        "comparison_2": SCALE["Often"],
        "comparison_3": SCALE["Rarely"],
        "comparison_4": SCALE["Sometimes"],
        "comparison_5": SCALE["Often"],
    }
    slots = crash_stack.tracker_slots(chat.pseudonym)
    assert {item: slots.get(item) for item in answers} == answers
    assert crash_stack.item_answers(chat.pseudonym, "comparison") == answers
    print(
        f"\n[crash] action server pid {pid} killed (SIGKILL); {len(down)} messages + 1 risk message while down: "
        f"{len(down)} fail-safe replies, 1 crisis reply; back in {restart_seconds:.1f} s; resumed at "
        f"question 2 with 1 earlier answer kept, 5/5 answers stored"
    )
