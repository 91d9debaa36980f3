"""Fixtures for the Telegram tests: the stand-in Bot API and the real front end in a thread."""

from __future__ import annotations

import logging
from typing import Callable, Iterator, List, Optional

import pytest

from bot.gateway import Gateway
from bot.gateway.core import BUSY_NOTE_SECONDS
from bot.privacy.pseudonym import Pseudonymiser
from bot.telegram.app import QUIET_LOGGERS, TelegramSettings, quiet_third_party_loggers
from tests.telegram.fake_bot_api import FakeBotApi
from tests.telegram.harness import FrontEndThread


@pytest.fixture
def fake_api() -> Iterator[FakeBotApi]:
    api = FakeBotApi().start()
    try:
        yield api
    finally:
        api.stop()


@pytest.fixture
def production_logging(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    """Capture every record at the levels `scrollcheck telegram` runs with (ours down to DEBUG)."""
    saved = {name: logging.getLogger(name).level for name in QUIET_LOGGERS}
    caplog.set_level(logging.INFO)
    caplog.set_level(logging.DEBUG, logger="bot")
    quiet_third_party_loggers()
    try:
        yield caplog
    finally:
        for name, level in saved.items():
            logging.getLogger(name).setLevel(level)


StartFrontEnd = Callable[..., FrontEndThread]


@pytest.fixture
def start_front_end(fake_api: FakeBotApi, pseudonymiser: Pseudonymiser) -> Iterator[StartFrontEnd]:
    """start_front_end(rasa_url, action_url=..., timeout=..., settings=..., busy_after=...) -> a running
    front end. busy_after=None turns the "busy, answer coming" note off, for tests against the real
    Rasa that assert whole turns on a machine whose speed they do not control."""
    running: List[FrontEndThread] = []

    def start(
        rasa_url: str,
        *,
        action_url: Optional[str] = None,
        timeout: float = 10.0,
        gateway: Optional[Gateway] = None,
        settings: Optional[TelegramSettings] = None,
        busy_after: Optional[float] = BUSY_NOTE_SECONDS,
    ) -> FrontEndThread:
        settings = settings or TelegramSettings(token=fake_api.token, base_url=fake_api.base_url)
        gateway = gateway or Gateway(
            rasa_url, action_url=action_url, timeout=timeout, busy_after=busy_after
        )
        front_end = FrontEndThread(settings, gateway, pseudonymiser).start()
        running.append(front_end)
        if settings.webhook_url:
            fake_api.wait_for(lambda: fake_api.calls("setWebhook"), timeout=30)
        else:
            fake_api.wait_for(lambda: fake_api.calls("getUpdates"), timeout=30)
        return front_end

    yield start
    for front_end in running:
        front_end.stop()
