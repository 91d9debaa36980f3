"""/forget from end to end: one erasure, one erasure_log row, nothing left, nobody named in a log.

Two ways through the same gateway:
* against a stand-in Rasa that plays Rasa's part of the turn faithfully enough for erasure: it
  runs the REAL forget actions (actions/forget_form.py, as tests/dialogue does), saves the turn's
  events with Rasa's own SQLTrackerStore BEFORE answering (as `rasa run` does), and answers with
  the domain's rendered responses. Fast, so it runs with `make test-fast` too.
* against the real `rasa run` + action server (marked `rasa`): a whole check-in through buttons,
  then /forget, with the logs of all three processes read for the pseudonym; and a whole check-in
  without consent, whose chat is erased when it ends (as utter_consent_declined promises).
"""

from __future__ import annotations

import asyncio
import logging
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Dict, Iterator, List

import pytest
from sqlalchemy import create_engine, text

from bot.gateway import Gateway, Reply
from bot.privacy.pseudonym import Pseudonymiser
from bot.storage.db import dispose_engines
from tests.conftest import TEST_SECRET
from tests.dialogue.helpers import rendered, run, slot_updates, tracker, variation
from tests.stack import CannedAnswer, RasaRequest, RasaStack, StandInRasa
from tests.storage.rasa_trackers import count_events, dispose, rasa_sql_store, save_conversation
from tests.storage.test_storage_erase import occurrences

# A pseudonym as the front ends make them (HMAC of a Telegram id), so a log scan looks for the real shape.
P = Pseudonymiser(TEST_SECRET).pseudonym(424242001)
FORGET = "/delete_data"  # what Telegram's /forget sends (bot.telegram.texts.COMMAND_PAYLOADS)


def scalar(url: str, sql: str, **params: Any) -> int:
    engine = create_engine(url, future=True)
    try:
        with engine.connect() as connection:
            return int(connection.execute(text(sql), params).scalar_one())
    finally:
        engine.dispose()


def erasure_rows(url: str) -> int:
    return scalar(url, "SELECT count(*) FROM erasure_log")


@pytest.fixture
def every_log(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    """Every record of this process, ours (bot, actions) down to DEBUG."""
    caplog.set_level(logging.INFO)
    caplog.set_level(logging.DEBUG, logger="bot")
    caplog.set_level(logging.DEBUG, logger="actions")
    yield caplog


def texts(replies: List[Reply]) -> List[str]:
    return [reply.text for reply in replies]


# --- the gateway with the real actions, Rasa played by a stand-in -----------------------------------


class RasaForTheForgetTurns:
    """Rasa's part of the /forget turns: the forget form asks, the real validator and outcome
    action run, and the turn's events are in the tracker store before the HTTP answer leaves."""

    def __init__(self, store) -> None:
        self.store = store
        self.slots: Dict[str, Any] = {}

    def __call__(self, request: RasaRequest) -> CannedAnswer:
        # The stand-in answers inside its own event loop: the actions and Rasa's store (both
        # async) run on a thread of their own, as the action server and Rasa would.
        with ThreadPoolExecutor(1) as pool:
            return pool.submit(self._turn, request).result()

    def _turn(self, request: RasaRequest) -> CannedAnswer:
        from rasa.shared.core.events import ActionExecuted, BotUttered, Event, UserUttered
        from rasa.shared.core.trackers import DialogueStateTracker

        sender = request.sender
        events: List[Event] = [
            UserUttered(
                request.message, intent={"name": request.message.lstrip("/"), "confidence": 1.0}
            )
        ]
        if request.message == FORGET:
            messages = [
                {
                    k: v
                    for k, v in variation("utter_ask_forget_confirmed").items()
                    if k in ("text", "buttons")
                }
            ]
            self.slots["requested_slot"] = "forget_confirmed"
            events.append(ActionExecuted("forget_form"))
        else:
            from actions.forget_form import ActionForgetOutcome, ValidateForgetForm

            intent = {"/affirm": "affirm", "/deny": "deny"}.get(request.message, "out_of_scope")
            validated, _ = run(
                ValidateForgetForm(),
                tracker(
                    slots=self.slots,
                    intent=intent,
                    text=request.message,
                    active_loop="forget_form",
                    sender=sender,
                ),
            )
            self.slots.update(slot_updates(validated))
            outcome, dispatcher = run(
                ActionForgetOutcome(), tracker(slots=self.slots, active_loop=None, sender=sender)
            )
            messages = rendered(dispatcher)
            events += [Event.from_parameters(e) for e in validated + outcome]
            events.append(ActionExecuted("action_forget_outcome"))
        events += [BotUttered(m.get("text"), {"custom": m.get("custom")}) for m in messages]
        events.append(ActionExecuted("action_listen"))
        previous = asyncio.run(self.store.retrieve(sender))
        history = list(previous.events) if previous is not None else []
        asyncio.run(self.store.save(DialogueStateTracker.from_events(sender, history + events)))
        return CannedAnswer([{"recipient_id": sender, **m} for m in messages])


@pytest.fixture
def migrated_db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    from bot.storage.migrate import upgrade

    url = f"sqlite:///{tmp_path / 'scrollcheck.db'}"
    upgrade(url)
    monkeypatch.setenv("DATABASE_URL", url)  # the actions and the gateway's erasure use it
    yield url
    dispose_engines()


def _a_checked_in_person(store) -> None:
    """Consent, one topic's results (written by the real check-in validator) and a chat history."""
    from actions.checkin_form import ValidateCheckinForm

    run(
        ValidateCheckinForm(),
        tracker(slots={"requested_slot": "consent"}, intent="affirm", text="/affirm", sender=P),
    )
    answered = {
        "topics": ["fomo"],
        "age_band": "16-17",
        "country": "GB",
        "checkin_id": "c-1",
        "consent": True,
        "fomo_1": 5,
        "fomo_2": 4,
        "fomo_3": "skipped",
        "fomo_4": 4,
        "requested_slot": "fomo_5",
    }
    run(
        ValidateCheckinForm(),
        tracker(
            slots=answered,
            intent="answer_often",
            text="/answer_often",
            sender=P,
            metadata={"language_code": "en-GB"},
        ),
    )
    save_conversation(store, P, text="hello, i would like to do the check-in")


async def test_forget_through_the_gateway_erases_once_and_names_nobody(
    migrated_db: str,
    tmp_path: Path,
    stand_in_rasa: StandInRasa,
    every_log: pytest.LogCaptureFixture,
) -> None:
    store = rasa_sql_store(migrated_db, tmp_path)
    try:
        await asyncio.to_thread(_a_checked_in_person, store)  # it runs its own event loops
        assert scalar(migrated_db, "SELECT count(*) FROM topic_summaries") == 1
        assert {"checkins.pseudonym", "consent_records.pseudonym", "events.sender_id"} <= set(
            occurrences(migrated_db, P)
        )
        stand_in_rasa.responder = RasaForTheForgetTurns(store)
        gateway = Gateway(stand_in_rasa.url, timeout=10.0, busy_after=None)
        gateway.disclosure.mark_disclosed(P)
        try:
            asked = await gateway.handle(P, FORGET, language_code="en-GB")
            assert texts(asked) == [variation("utter_ask_forget_confirmed")["text"]]
            assert erasure_rows(migrated_db) == 0, "asking is not erasing"
            [yes] = [b for b in asked[-1].buttons if b.title == "Yes, erase everything"]
            done = await gateway.handle(P, yes.payload, language_code="en-GB")
        finally:
            await gateway.aclose()
    finally:
        dispose(store)

    assert texts(done) == [variation("utter_forget_done")["text"]]
    assert erasure_rows(migrated_db) == 1, "one /forget, one erasure, one erasure_log row"
    assert occurrences(migrated_db, P) == {}, "nothing under the pseudonym in any table"
    assert count_events(migrated_db, P) == 0, "the forget turn's own tracker events too"
    assert scalar(migrated_db, "SELECT count(*) FROM topic_summaries") == 0
    assert scalar(migrated_db, "SELECT count(*) FROM item_answers") == 0
    assert "erasure done" in every_log.text, (
        "the erasure was logged (so the scan below saw the logs)"
    )
    assert P not in every_log.text, "no log line names the person who was just forgotten"


async def test_a_cancelled_forget_erases_nothing(
    migrated_db: str,
    tmp_path: Path,
    stand_in_rasa: StandInRasa,
    every_log: pytest.LogCaptureFixture,
) -> None:
    store = rasa_sql_store(migrated_db, tmp_path)
    try:
        await asyncio.to_thread(_a_checked_in_person, store)
        stand_in_rasa.responder = RasaForTheForgetTurns(store)
        gateway = Gateway(stand_in_rasa.url, timeout=10.0, busy_after=None)
        gateway.disclosure.mark_disclosed(P)
        try:
            asked = await gateway.handle(P, FORGET)
            [no] = [b for b in asked[-1].buttons if b.title == "No, keep it"]
            kept = await gateway.handle(P, no.payload)
        finally:
            await gateway.aclose()
    finally:
        dispose(store)
    assert texts(kept) == [variation("utter_forget_cancelled")["text"]]
    assert erasure_rows(migrated_db) == 0
    assert scalar(migrated_db, "SELECT count(*) FROM topic_summaries") == 1
    assert scalar(migrated_db, "SELECT count(*) FROM checkins WHERE pseudonym = :p", p=P) == 1


async def test_a_failed_erasure_says_so_leaves_nothing_half_done_and_names_nobody(
    migrated_db: str,
    tmp_path: Path,
    stand_in_rasa: StandInRasa,
    every_log: pytest.LogCaptureFixture,
) -> None:
    store = rasa_sql_store(migrated_db, tmp_path)
    try:
        await asyncio.to_thread(_a_checked_in_person, store)
        # A broken database: the erasure's DELETE on this table fails, and the database's error
        # quotes the statement's parameters, the pseudonym among them.
        engine = create_engine(migrated_db, future=True)
        with engine.begin() as connection:
            connection.execute(text("DROP TABLE consent_records"))
        engine.dispose()
        stand_in_rasa.responder = RasaForTheForgetTurns(store)
        gateway = Gateway(stand_in_rasa.url, timeout=10.0, busy_after=None)
        gateway.disclosure.mark_disclosed(P)
        try:
            asked = await gateway.handle(P, FORGET)
            [yes] = [b for b in asked[-1].buttons if b.title == "Yes, erase everything"]
            failed = await gateway.handle(P, yes.payload)
        finally:
            await gateway.aclose()
    finally:
        dispose(store)
    from bot.safety.replies import erase_failed

    assert texts(failed) == [erase_failed("en")], "never 'everything is erased' when it was not"
    assert erasure_rows(migrated_db) == 0
    # One transaction: the rows deleted before the failure are all back.
    assert scalar(migrated_db, "SELECT count(*) FROM checkins WHERE pseudonym = :p", p=P) == 1
    assert count_events(migrated_db, P) > 0
    assert "erasure failed" in every_log.text
    assert P not in every_log.text, "not even in the database's error message"


# --- the real Rasa and action server ----------------------------------------------------------------


def _press(replies: List[Reply], title: str) -> str:
    with_buttons = [reply for reply in replies if reply.buttons]
    assert with_buttons, f"expected buttons after: {texts(replies)}"
    titles = [button.title for button in with_buttons[-1].buttons]
    assert title in titles, titles
    return next(button.payload for button in with_buttons[-1].buttons if button.title == title)


@pytest.mark.rasa
async def test_forget_after_a_real_check_in_erases_once_and_no_log_names_the_user(
    rasa_stack: RasaStack,
    monkeypatch: pytest.MonkeyPatch,
    every_log: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.setenv(
        "DATABASE_URL", rasa_stack.database_url
    )  # the gateway erases in the stack's database
    pseudonym = Pseudonymiser(TEST_SECRET).pseudonym(424242002)
    gateway = Gateway(
        rasa_stack.rasa_url, action_url=rasa_stack.action_url, timeout=30.0, busy_after=None
    )

    async def say(message: str) -> List[Reply]:
        return await gateway.handle(pseudonym, message, language_code="en-GB")

    try:
        turn = await say("/greet")
        for title in ("Yes, that's OK", "16–17", "UK", "Comparing myself to others"):
            turn = await say(_press(turn, title))
        for number in range(1, 6):
            assert f"Question {number} of 5" in "\n".join(texts(turn)), texts(turn)
            turn = await say(_press(turn, "Often"))
        url = rasa_stack.database_url
        assert scalar(url, "SELECT count(*) FROM checkins WHERE pseudonym = :p", p=pseudonym) == 1
        erased_before = erasure_rows(url)

        turn = await say(FORGET)
        done = await say(_press(turn, "Yes, erase everything"))
    finally:
        await gateway.aclose()
        dispose_engines()

    assert variation("utter_forget_done")["text"] in texts(done)
    assert erasure_rows(url) == erased_before + 1, "one /forget, one erasure_log row"
    assert occurrences(url, pseudonym) == {}, "nothing under the pseudonym in any table"
    assert "erasure done" in every_log.text
    assert pseudonym not in every_log.text, "the gateway's logs name nobody"
    named_in = [
        path.name for path in rasa_stack.log_files if pseudonym in path.read_text(errors="replace")
    ]
    assert named_in == [], "no log of Rasa or the action server names the user"


@pytest.mark.rasa
async def test_a_checkin_without_consent_leaves_nothing_when_it_ends(
    rasa_stack: RasaStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATABASE_URL", rasa_stack.database_url)
    pseudonym = Pseudonymiser(TEST_SECRET).pseudonym(424242003)
    gateway = Gateway(
        rasa_stack.rasa_url, action_url=rasa_stack.action_url, timeout=30.0, busy_after=None
    )
    url = rasa_stack.database_url

    async def say(message: str) -> List[Reply]:
        return await gateway.handle(pseudonym, message, language_code="en-GB")

    try:
        erased_before = erasure_rows(url)
        turn = await say("/greet")
        turn = await say(_press(turn, "No, don't keep them"))
        assert variation("utter_consent_declined")["text"] in texts(turn)
        for title in ("16–17", "UK", "Comparing myself to others"):
            turn = await say(_press(turn, title))
        for number in range(1, 6):
            assert f"Question {number} of 5" in "\n".join(texts(turn)), texts(turn)
            assert count_rasa_rows(url, pseudonym) > 0, "the check-in runs on Rasa's tracker"
            turn = await say(_press(turn, "Often"))
        assert variation("utter_goodbye")["text"] in texts(turn), texts(turn)
        assert erasure_rows(url) == erased_before + 1
        assert occurrences(url, pseudonym) == {}, "nothing under the pseudonym in any table"
        # Coming back starts afresh: consent is asked again.
        again = await say("/greet")
        assert any("Is it OK if I keep your answers" in text for text in texts(again)), texts(again)
    finally:
        await gateway.aclose()
        dispose_engines()


def count_rasa_rows(url: str, pseudonym: str) -> int:
    return scalar(url, "SELECT count(*) FROM events WHERE sender_id = :p", p=pseudonym)
