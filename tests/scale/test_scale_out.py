"""Scale-out on Rasa's own distributed setup: 200 chats through two of everything, one Rasa killed.

The stack is tests/scale/stack.py (docs/deploy.md's topology on loopback: nginx, two `rasa run`
replicas on a PostgreSQL tracker store with a Redis lock store, two action servers, two Telegram
front ends in webhook mode). 200 simulated users do the scripted check-ins of the full-path
benchmark (buttons, free text, interruptions, one in ten with a risk message). When 40 % of the
expected messages have been sent, one Rasa replica is killed with SIGKILL. A user whose message
got the fail-safe ("briefly unavailable") tries again, as the fail-safe asks.

Asserted: every chat reaches the end of its check-in (no conversation lost), every message got an
answer, and each chat's messages reached Rasa in the order they were sent (read back from the
PostgreSQL tracker store).
"""

from __future__ import annotations

import asyncio
import shutil
import socket
import time
from collections import defaultdict
from pathlib import Path
from typing import Dict, List

import pytest

from tests.scale.stack import NGINX, ScaleOutStack
from tests.stack import newest_model
from tests.storage.databases import throwaway_postgres
from tests.telegram.simulated_users import Chat, Load, TimedBotApi, make_user, script_for

pytestmark = [pytest.mark.rasa, pytest.mark.postgres, pytest.mark.timeout(1200)]

CHATS = 200
THINK_MEAN_SECONDS = 6.0
KILL_AT = 0.4  # share of the expected messages sent before a Rasa replica is killed
USER_BASE = 7_100_000_000


def port_open(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(1.0)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def expected_messages(chats: int) -> int:
    return sum(len(script_for(index)[1]) for index in range(chats))


async def drive(stack: ScaleOutStack, api: TimedBotApi) -> Dict[str, object]:
    from bot.safety.replies import busy_note, unavailable_reply

    load = Load(
        api,
        unavailable_reply(None, "en")[:40],
        busy_note("en")[:40],
        THINK_MEAN_SECONDS,
        seed=11,
        retries=5,
    )
    for index in range(CHATS):
        user = make_user(USER_BASE + index)
        load.chats[user.id] = Chat(user=user, script=script_for(index)[1])
    kill_after = int(expected_messages(CHATS) * KILL_AT)
    killed_at: List[float] = []

    async def killer() -> None:
        while sum(len(chat.turns) for chat in load.chats.values()) < kill_after:
            await asyncio.sleep(0.2)
        stack.kill(stack.rasa[0])
        killed_at.append(time.monotonic())

    started = time.monotonic()
    await asyncio.gather(killer(), *(load.run_chat(chat) for chat in load.chats.values()))
    return {"load": load, "seconds": time.monotonic() - started, "killed": bool(killed_at)}


def user_texts_in_trackers(database_url: str) -> Dict[str, List[str]]:
    """Per sender (pseudonym), the texts of its user events in the order Rasa stored them."""
    import json

    from sqlalchemy import create_engine, text

    engine = create_engine(database_url, future=True)
    try:
        with engine.connect() as connection:
            rows = connection.execute(
                text("SELECT sender_id, data FROM events WHERE type_name = 'user' ORDER BY id")
            ).all()
    finally:
        engine.dispose()
    texts: Dict[str, List[str]] = defaultdict(list)
    for sender, data in rows:
        texts[sender].append(json.loads(data).get("text") or "")
    return texts


def transcript(api: TimedBotApi, chat: Chat) -> str:
    """What a stuck chat sent and was shown, for the failure message (simulated users only)."""
    shown = [
        f"  bot: {m.get('text', '')[:60]!r} {[b['text'] for row in (m.get('reply_markup') or {}).get('inline_keyboard', []) for b in row]}"
        for m in api.bot_messages(chat.user.id)[-8:]
    ]
    return f"chat {chat.user.id} ({chat.stuck}); sent {chat.sent[-6:]}\n" + "\n".join(shown)


def is_subsequence(items: List[str], of: List[str]) -> bool:
    remaining = iter(of)
    return all(any(item == candidate for candidate in remaining) for item in items)


def test_two_replicas_of_everything_serve_200_chats_and_survive_a_killed_rasa(
    tmp_path: Path,
) -> None:
    assert shutil.which(NGINX) or Path(NGINX).exists(), (
        "nginx is missing: scripts/ensure-nginx.sh installs Debian's package"
    )
    model = newest_model()
    assert model is not None, "no trained Rasa model in models/: run `make train`"
    from bot.privacy.pseudonym import Pseudonymiser

    api = TimedBotApi().start()
    with throwaway_postgres() as database_url:
        stack = ScaleOutStack(tmp_path, model, database_url, api.base_url, api.token)
        try:
            stack.start()
            api.wait_for(lambda: api.webhook.get("url") == stack.webhook_url, timeout=180)
            # Both front ends listening: else nginx would send one's chats to the other at first.
            api.wait_for(lambda: all(port_open(r.port) for r in stack.front_ends), timeout=180)
            probe = make_user(USER_BASE - 1)
            api.send_text(probe, "/start")
            api.wait_for(lambda: api.bot_messages(probe.id), timeout=180)

            outcome = asyncio.run(drive(stack, api))
        finally:
            stack.stop()
            api.stop()
        load: Load = outcome["load"]  # type: ignore[assignment]
        chats = list(load.chats.values())
        turns = [turn for chat in chats for turn in chat.turns]
        unavailable = sum(1 for turn in turns if turn.unavailable)
        print(
            f"\nscale-out: {len(turns)} messages from {CHATS} chats in {outcome['seconds']:.0f} s "
            f"({len(turns) / outcome['seconds']:.1f} msg/s), {unavailable} fail-safe answers after killing one Rasa, "
            f"{api.webhook_deliveries} webhook deliveries, {api.webhook_retries} redelivered, "
            f"{sum(chat.skipped for chat in chats)} script steps skipped to follow the bot after a "
            "fail-safe whose turn Rasa had saved"
        )

        assert outcome["killed"], "the run ended before a Rasa replica was killed"
        stuck = {chat.user.id: chat.stuck for chat in chats if chat.stuck}
        assert not stuck, (
            f"{len(stuck)} conversations did not reach the end of the check-in: {sorted(set(stuck.values()))}\n"
            + "\n".join(transcript(api, chat) for chat in chats if chat.stuck)
        )
        assert all(turn.first is not None for turn in turns), "a message got no answer"
        assert unavailable <= 0.05 * len(turns), (
            f"{unavailable} fail-safe answers for one replica killed"
        )

        # Order within each chat, as Rasa stored it: the typed messages (button payloads are
        # Rasa's own intents) appear in the tracker in the order the user sent them.
        pseudonymiser = Pseudonymiser(stack.pseudonym_secret)
        stored = user_texts_in_trackers(database_url)
        out_of_order = []
        for chat in chats:
            typed = [value for kind, value in chat.script if kind == "say"]
            in_tracker = [
                t for t in stored.get(pseudonymiser.pseudonym(chat.user.id), []) if t in typed
            ]
            if not is_subsequence(
                in_tracker, [value for kind, value in chat.sent if kind == "say"]
            ):
                out_of_order.append(chat.user.id)
        assert not out_of_order, f"{len(out_of_order)} chats reached Rasa out of order"
