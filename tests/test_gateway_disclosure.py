"""The 3-hour "automated assistant, not a human, not a therapist" reminder, with a fake clock."""

from __future__ import annotations

from typing import Any, Dict, List

import pytest

from bot.disclosure import DISCLOSURE_INTERVAL_SECONDS, DisclosureClock
from bot.gateway import Gateway, Reply
from bot.safety import detect
from bot.safety.replies import crisis_reply, disclosure_reminder
from tests.stack import CannedAnswer, StandInRasa, closed_port_url

P = "pseudonym-disclosure"
HOURS = 3600.0


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def texts(replies: List[Reply]) -> List[str]:
    return [reply.text for reply in replies]


def disclosed_answer(text: str) -> List[Dict[str, Any]]:
    return [
        {"recipient_id": P, "text": text},
        {"recipient_id": P, "custom": {"scrollcheck": {"disclosed": True}}},
    ]


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
async def gateway(stand_in_rasa: StandInRasa, clock: FakeClock):
    gateway = Gateway(stand_in_rasa.url, clock=clock)
    yield gateway
    await gateway.aclose()


def test_clock_is_due_when_unknown_or_older_than_three_hours(clock: FakeClock) -> None:
    disclosure = DisclosureClock(clock=clock)
    assert DISCLOSURE_INTERVAL_SECONDS == 3 * HOURS
    assert disclosure.is_due(P)
    disclosure.mark_disclosed(P)
    clock.advance(3 * HOURS)
    assert not disclosure.is_due(P), "exactly 3 hours is not yet more than 3 hours"
    clock.advance(1)
    assert disclosure.is_due(P)
    disclosure.forget(P)
    assert disclosure.last_disclosure(P) is None


def test_clock_memory_is_bounded(clock: FakeClock) -> None:
    disclosure = DisclosureClock(clock=clock, max_entries=3)
    for name in "abcd":
        disclosure.mark_disclosed(name)
    assert len(disclosure) == 3 and disclosure.is_due("a") and not disclosure.is_due("d")


async def test_first_contact_disclosed_by_rasa_gets_no_extra_reminder(
    gateway, stand_in_rasa
) -> None:
    stand_in_rasa.responder = lambda request: CannedAnswer(
        disclosed_answer("Hi, I'm an automated assistant.")
    )
    assert texts(await gateway.handle(P, "hi")) == ["Hi, I'm an automated assistant."]


async def test_unknown_user_without_rasa_disclosure_gets_the_reminder_first(
    gateway, stand_in_rasa
) -> None:
    replies = await gateway.handle(P, "hello again")  # e.g. after a gateway restart
    assert texts(replies) == [disclosure_reminder(), "echo: hello again"]
    assert texts(await gateway.handle(P, "and now?")) == ["echo: and now?"], "not twice in a row"


async def test_reminder_again_after_more_than_three_hours(gateway, stand_in_rasa, clock) -> None:
    await gateway.handle(P, "first")
    clock.advance(3 * HOURS - 60)
    assert texts(await gateway.handle(P, "still within")) == ["echo: still within"]
    clock.advance(2 * 60)  # 3 h 1 min after the last disclosure
    assert texts(await gateway.handle(P, "later")) == [disclosure_reminder(), "echo: later"]
    clock.advance(HOURS)
    assert texts(await gateway.handle(P, "an hour on")) == ["echo: an hour on"]


async def test_rasa_disclosing_again_resets_the_clock(gateway, stand_in_rasa, clock) -> None:
    await gateway.handle(P, "first")
    clock.advance(2 * HOURS)
    stand_in_rasa.responder = lambda request: CannedAnswer(
        disclosed_answer("I'm a bot, not a human.")
    )
    await gateway.handle(P, "are you human?")
    stand_in_rasa.responder = lambda request: CannedAnswer([{"recipient_id": P, "text": "ok"}])
    clock.advance(2 * HOURS)  # 4 h after the first, 2 h after Rasa's disclosure
    assert texts(await gateway.handle(P, "hm")) == ["ok"]


async def test_reminder_comes_after_crisis_resources_never_before(clock) -> None:
    gateway = Gateway(closed_port_url(), clock=clock, timeout=1.0)
    text = "i want to kill myself"
    replies = await gateway.handle(P, text, language_code="en-GB")
    crisis = crisis_reply(detect(text, lang="en"), "GB", "en")
    assert texts(replies)[0] == crisis.messages[0]
    assert texts(replies)[-1] == disclosure_reminder()
