"""Shared fixtures: the real Rasa stack (session-scoped), a stand-in Rasa, a test pseudonymiser."""

from __future__ import annotations

from typing import Iterator

import pytest

from bot.privacy.pseudonym import Pseudonymiser
from tests.stack import RasaStack, StandInRasa, newest_model

TEST_SECRET = "test-secret-for-pseudonyms-0123456789"


@pytest.fixture(scope="session")
def rasa_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RasaStack]:
    """`rasa run actions` + `rasa run --enable-api` on free loopback ports with the newest model.

    Yields the RasaStack (rasa_url, action_url, db_path, database_url, log_files); both process
    groups are stopped at the end of the session.
    """
    model = newest_model()
    if model is None:
        pytest.fail("no trained Rasa model in models/: run `make train`")
    stack = RasaStack(workdir=tmp_path_factory.mktemp("rasa-stack"), model=model)
    stack.start()
    try:
        yield stack
    finally:
        stack.stop()


@pytest.fixture
def stand_in_rasa() -> Iterator[StandInRasa]:
    server = StandInRasa().start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def pseudonymiser() -> Pseudonymiser:
    return Pseudonymiser(TEST_SECRET)
