"""Realistic Rasa `events` rows, written by Rasa's own SQLTrackerStore through our endpoints.yml."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Optional

import yaml

from bot.storage.db import tracker_store_endpoint


def rasa_sql_store(url: str, workdir: Path):
    """Rasa's SQLTrackerStore built exactly as `rasa run` builds it from endpoints.yml."""
    from rasa.core.tracker_store import SQLTrackerStore, _create_from_endpoint_config
    from rasa.shared.core.domain import Domain
    from rasa.utils.endpoints import read_endpoint_config

    endpoints = workdir / "endpoints.yml"
    endpoints.write_text(
        yaml.safe_dump({"tracker_store": tracker_store_endpoint(url)}), encoding="utf-8"
    )
    config = read_endpoint_config(str(endpoints), "tracker_store")
    store = _create_from_endpoint_config(config, Domain.empty())
    assert isinstance(store, SQLTrackerStore), (
        f"Rasa built {type(store).__name__}, not SQLTrackerStore"
    )
    return store


def save_conversation(
    store, sender_id: str, *, age_seconds: float = 0.0, text: str = "hi there"
) -> int:
    """Save a short conversation for `sender_id`, its events dated `age_seconds` ago; returns #events."""
    from rasa.shared.core.events import (
        ActionExecuted,
        BotUttered,
        SessionStarted,
        SlotSet,
        UserUttered,
    )
    from rasa.shared.core.trackers import DialogueStateTracker

    start = time.time() - age_seconds
    events = [
        ActionExecuted("action_session_start", timestamp=start),
        SessionStarted(timestamp=start + 0.1),
        ActionExecuted("action_listen", timestamp=start + 0.2),
        UserUttered(
            text,
            intent={"name": "greet", "confidence": 0.98},
            timestamp=start + 1,
            parse_data={
                "text": text,
                "intent": {"name": "greet", "confidence": 0.98},
                "entities": [],
            },
        ),
        SlotSet("age_band", "16-17", timestamp=start + 2),
        BotUttered("Hi! I'm an automated assistant.", timestamp=start + 3),
        ActionExecuted("action_listen", timestamp=start + 4),
    ]
    tracker = DialogueStateTracker.from_events(sender_id, events)
    asyncio.run(store.save(tracker))
    return len(events)


def dispose(store) -> None:
    store.engine.dispose()


def count_events(url: str, sender_id: Optional[str] = None) -> int:
    from sqlalchemy import create_engine, text

    engine = create_engine(url, future=True)
    try:
        with engine.connect() as connection:
            if sender_id is None:
                return connection.execute(text("SELECT count(*) FROM events")).scalar_one()
            return connection.execute(
                text("SELECT count(*) FROM events WHERE sender_id = :s"), {"s": sender_id}
            ).scalar_one()
    finally:
        engine.dispose()
