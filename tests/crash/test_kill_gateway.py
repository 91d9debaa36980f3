"""kill -9 the Telegram front end (the gateway's process) in the middle of a check-in.

Two kinds of message are at stake, both in one kill:
* sent while the front end is down: Telegram keeps a bot's updates until a getUpdates call with a
  higher offset confirms them, and the front end polls with drop_pending_updates=False
  (bot.telegram.app.run), so the next start fetches them;
* fetched but not yet answered when it died (here: Rasa frozen with SIGSTOP mid-turn): PTB's next
  long poll has already confirmed it, so Telegram will not send it again. Only the front end's
  own inbox (bot.telegram.inbox) still has it; before that inbox the message was lost for good.
After the restart each is answered exactly once, in the order sent (a risk message's crisis numbers
may overtake the others), and the check-in goes on where it was (its state is Rasa's, not the front end's).
"""

from __future__ import annotations

import os
import signal

import pytest

from bot.safety import detect
from bot.safety.replies import acuity_question, crisis_reply
from tests.crash.harness import (
    SCALE,
    Chat,
    CrashStack,
    FrontEndProcess,
    question,
    start_comparison_checkin,
)

pytestmark = pytest.mark.rasa

RISK_TEXT = "honestly i want to kill myself"
COUNTRY = "GB"


def test_front_end_killed_in_flight_and_queued_messages_answered_once_in_order(
    crash_stack: CrashStack, front_end: FrontEndProcess, chat: Chat
) -> None:
    start_comparison_checkin(chat, ["Often"])  # question 2 is open
    before = len(chat.messages())

    rasa = crash_stack.process("rasa")
    os.killpg(rasa.pid, signal.SIGSTOP)
    try:
        in_flight = chat.api.send_text(chat.user, "sometimes")
        # Fetched and confirmed by the next getUpdates (offset past it): Telegram has let go of it.
        chat.api.wait_for(
            lambda: any(
                (call.params.get("offset") or 0) > in_flight["update_id"]
                for call in chat.api.calls("getUpdates")
            ),
            timeout=30,
        )
        chat.api.wait_for(
            lambda: chat.api.calls("sendChatAction"), timeout=30
        )  # its turn has begun
        pid = front_end.kill()
    finally:
        os.killpg(rasa.pid, signal.SIGCONT)
    assert front_end.unanswered() == 1, "the inbox holds the fetched, unanswered update"

    queued = ["often", RISK_TEXT]
    for text in queued:
        chat.api.send_text(chat.user, text)
    assert len(chat.messages()) == before, "nobody answers while the front end is down"

    restart_seconds = front_end.start()
    seen = chat.wait_for_text(before, acuity_question().text, timeout=120)
    expected = crisis_reply(detect(RISK_TEXT), COUNTRY)
    q3 = [i for i, text in enumerate(seen) if question(3) in text]
    q4 = [i for i, text in enumerate(seen) if question(4) in text]
    crisis = [i for i, text in enumerate(seen) if text == expected.messages[0]]
    assert len(q3) == 1 and len(q4) == 1 and len(crisis) == 1, seen  # each answered exactly once
    assert q3[0] < q4[0], seen  # in the order they were sent
    # The crisis reply may go out ahead of the chat's earlier turns (it never waits behind them:
    # docs/safety-case.md H-03); the risk message's own turn, Rasa's follow-up, comes after them.
    assert q4[0] < seen.index(acuity_question().text), seen
    assert seen[crisis[0] : crisis[0] + len(expected.messages)] == list(expected.messages)
    assert seen.count(acuity_question().text) == 1

    since = chat.press("No")  # Rasa's crisis path offers the way back to the check-in
    chat.wait_for_button(since, "Back to the check-in")
    since = chat.press("Back to the check-in")
    chat.wait_for_text(since, question(4))
    since = chat.press("Never")
    chat.wait_for_text(since, question(5))
    since = chat.press("Rarely")
    chat.wait_for_button(since, "Yes, share it")
    answers = {
        "comparison_1": 4,
        "comparison_2": SCALE["Sometimes"],
        "comparison_3": SCALE["Often"],
        "comparison_4": SCALE["Never"],
        "comparison_5": SCALE["Rarely"],
    }
    assert crash_stack.item_answers(chat.pseudonym, "comparison") == answers
    assert chat.api.wait_for(lambda: front_end.unanswered() == 0, timeout=10), (
        "the inbox is empty again"
    )
    print(
        f"\n[crash] front end pid {pid} killed (SIGKILL) with 1 fetched, unanswered message; "
        f"{len(queued)} messages sent while down (1 a risk); after the restart ({restart_seconds:.1f} s) "
        f"all {1 + len(queued)} answered once, in order; 5/5 answers stored"
    )
