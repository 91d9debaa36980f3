"""The small parts of the front end on their own: splitting, callback data, lanes, the token bucket,
the buttons a fail-safe gives back."""

from __future__ import annotations

import asyncio
import time
from typing import List

from bot.gateway import Button, Reply
from bot.telegram.callback_data import CALLBACK_DATA_MAX_BYTES, CallbackDataMap
from bot.telegram.delivery import give_buttons_back, split_text, utf16_units
from bot.telegram.lanes import ChatLanes, TokenBucket


def test_split_counts_utf16_units_like_telegram() -> None:
    emoji = "😀" * 3000  # 3000 characters but 6000 UTF-16 units
    parts = split_text(emoji)
    assert len(parts) == 2 and all(utf16_units(p) <= 4096 for p in parts)
    assert "".join(parts) == emoji, "never half a surrogate pair"


def test_split_prefers_paragraphs_then_lines_then_sentences_then_words() -> None:
    text = "a" * 3000 + "\n\n" + "b" * 3000
    assert split_text(text) == ["a" * 3000, "b" * 3000]
    text = "a" * 3000 + "\n" + "b" * 3000
    assert split_text(text) == ["a" * 3000, "b" * 3000]
    text = ("word " * 1000).strip()
    parts = split_text(text)
    assert all(not p.startswith(" ") and not p.endswith(" ") for p in parts)
    assert " ".join(parts) == text
    assert split_text("x" * 5000) == ["x" * 4096, "x" * 904]


def test_short_text_is_one_part() -> None:
    assert split_text("hello") == ["hello"]


def test_callback_data_short_payloads_pass_long_ones_map_back() -> None:
    mapping = CallbackDataMap()
    assert mapping.encode("/answer_often") == "/answer_often"
    long_payload = "/inform" + "x" * 100
    data = mapping.encode(long_payload)
    assert len(data.encode()) <= CALLBACK_DATA_MAX_BYTES and data != long_payload
    assert mapping.encode(long_payload) == data, "stable"
    assert mapping.resolve(data) == long_payload
    assert mapping.resolve("/answer_often") == "/answer_often"
    marked = "#looks-like-an-id"
    assert mapping.resolve(mapping.encode(marked)) == marked, (
        "a payload that starts with # is mapped too"
    )
    assert CallbackDataMap().resolve(data) is None, "unknown after a restart"
    multibyte = "ü" * 40  # 40 characters, 80 bytes
    assert len(mapping.encode(multibyte).encode()) <= CALLBACK_DATA_MAX_BYTES


def test_only_the_fail_safe_gets_the_pressed_buttons_back_and_a_turns_own_buttons_win() -> None:
    pressed = (Button("Often", "/answer_often"),)
    fail_safe = Reply("briefly unavailable", send_again=True)
    reminder = Reply("not a human")
    assert give_buttons_back([reminder, fail_safe], pressed) == [
        reminder,
        Reply("briefly unavailable", pressed, send_again=True),
    ]
    assert give_buttons_back([reminder], pressed) == [reminder], "not the fail-safe: no buttons"
    own = Reply("are you safe right now?", (Button("Yes", "/affirm"),))
    assert give_buttons_back([fail_safe, own], pressed) == [fail_safe, own]
    assert give_buttons_back([fail_safe], ()) == [fail_safe], "typed, not pressed"


def test_callback_map_is_bounded() -> None:
    mapping = CallbackDataMap(max_entries=2)
    ids = [mapping.encode(f"#{i}" + "y" * 70) for i in range(3)]
    assert mapping.resolve(ids[0]) is None and mapping.resolve(ids[2]) is not None


def test_token_bucket_allows_a_burst_then_paces() -> None:
    now = [0.0]
    bucket = TokenBucket(burst=3, per_second=2.0, clock=lambda: now[0])
    assert [bucket.try_take() for _ in range(3)] == [0, 0, 0]
    assert bucket.try_take() == 0.5 and bucket.try_take() == 0.5, "waiting takes nothing"
    now[0] += 0.5
    assert bucket.try_take() == 0 and bucket.try_take() == 0.5
    now[0] += 100
    assert [bucket.try_take() for _ in range(4)] == [0, 0, 0, 0.5], "refills up to the burst only"


async def test_lanes_keep_order_per_key_and_run_keys_concurrently() -> None:
    lanes = ChatLanes(burst=100, per_second=100)
    log: List[str] = []

    def job(key: str, n: int, delay: float):
        async def run() -> None:
            await asyncio.sleep(delay)
            log.append(f"{key}{n}")

        return run

    started = time.monotonic()
    for n in range(5):
        for key in "abc":
            lanes.submit(key, job(key, n, 0.05 * (5 - n)))
    while lanes.active_lanes():
        await asyncio.sleep(0.01)
    elapsed = time.monotonic() - started
    for key in "abc":
        assert [entry for entry in log if entry[0] == key] == [f"{key}{n}" for n in range(5)]
    assert elapsed < 0.75 * 2, "three lanes ran side by side (serial would be 2.25 s)"


async def test_lanes_bound_the_backlog_and_survive_a_failing_job() -> None:
    lanes = ChatLanes(max_pending=3, burst=100, per_second=100)
    done: List[int] = []

    async def boom() -> None:
        raise RuntimeError("job failed")

    def ok(n: int):
        async def run() -> None:
            await asyncio.sleep(0.01)
            done.append(n)

        return run

    lanes.submit("k", boom)
    lanes.submit("k", ok(1))
    lanes.submit("k", ok(2))
    assert lanes.is_full("k") and lanes.first_overflow("k") and not lanes.first_overflow("k")
    assert not lanes.is_full("other")
    while lanes.active_lanes():
        await asyncio.sleep(0.01)
    assert done == [1, 2] and lanes.pending("k") == 0


async def test_a_flooding_lane_is_paced_by_its_bucket() -> None:
    lanes = ChatLanes(burst=2, per_second=10)
    stamps: List[float] = []

    async def stamp() -> None:
        stamps.append(time.monotonic())

    for _ in range(5):
        lanes.submit("flood", stamp)
    while lanes.active_lanes():
        await asyncio.sleep(0.01)
    gaps = [b - a for a, b in zip(stamps, stamps[1:])]
    assert gaps[0] < 0.05 and all(gap >= 0.08 for gap in gaps[2:])
