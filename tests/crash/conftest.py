"""One real stack for the whole package (started once: model loading is the slow part), the
stand-in Bot API, and the Telegram front end as a process. Each test kills what it kills and
leaves everything running again for the next one."""

from __future__ import annotations

import time
from typing import Iterator

import pytest

from tests.crash.harness import Chat, CrashStack, FrontEndProcess
from tests.stack import newest_model
from tests.telegram.fake_bot_api import FakeBotApi
from tests.telegram.harness import distinctive_user


@pytest.fixture(scope="package")
def crash_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CrashStack]:
    model = newest_model()
    if model is None:
        pytest.fail("no trained Rasa model in models/: run `make train`")
    started = time.monotonic()
    stack = CrashStack(workdir=tmp_path_factory.mktemp("crash-stack"), model=model)
    stack.start()
    print(f"\n[crash] stack up in {time.monotonic() - started:.1f} s")
    try:
        yield stack
    finally:
        stack.stop()


@pytest.fixture(scope="package")
def bot_api() -> Iterator[FakeBotApi]:
    api = FakeBotApi().start()
    try:
        yield api
    finally:
        api.stop()


@pytest.fixture(scope="package")
def front_end(bot_api: FakeBotApi, crash_stack: CrashStack) -> Iterator[FrontEndProcess]:
    process = FrontEndProcess(bot_api, crash_stack, crash_stack.workdir)
    process.start()
    try:
        yield process
    finally:
        process.stop()


@pytest.fixture
def everything_running(crash_stack: CrashStack, front_end: FrontEndProcess) -> None:
    """A test that failed half-way may have left a process dead or the database "full"."""
    crash_stack.full_flag.unlink(missing_ok=True)
    for name in ("actions", "rasa"):
        if name not in dict(crash_stack.processes) or crash_stack.process(name).poll() is not None:
            crash_stack.processes = [(n, p) for n, p in crash_stack.processes if n != name]
            crash_stack.restart(name)
    if front_end.process is None or front_end.process.poll() is not None:
        front_end.start()


@pytest.fixture
def chat(bot_api: FakeBotApi, front_end: FrontEndProcess, everything_running: None) -> Chat:
    return Chat(bot_api, distinctive_user(language_code="en-GB"))
