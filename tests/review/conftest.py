"""Review-page fixtures: a seeded SQLite database, the real app on a free loopback port (served by
waitress, the production server, in a thread), and Debian's headless Chromium driven by Playwright."""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import pytest

from bot import PROJECT_ROOT
from bot.review.accounts import add_clinician
from tests.review.seed import Seed, seed

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
CLINICIAN = "clinician@example.org"
PASSWORD = "correct horse battery staple"


@dataclass
class SeededDatabase:
    url: str
    seed: Seed


@dataclass
class LiveServer:
    url: str
    app: object
    database: SeededDatabase


@pytest.fixture(scope="session")
def seeded_db(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SeededDatabase]:
    from bot.storage.db import dispose_engines
    from bot.storage.migrate import upgrade

    url = f"sqlite:///{tmp_path_factory.mktemp('review') / 'review.db'}"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DATABASE_URL", url)
        upgrade(url)
        data = seed(url)
        add_clinician(CLINICIAN, PASSWORD, url=url)
        yield SeededDatabase(url=url, seed=data)
    dispose_engines()


def serve(app) -> tuple:
    """Serve the app with waitress on a free 127.0.0.1 port in a thread; returns (base_url, server).

    Stop it with `server.stop()`."""
    from bot.review.server import ReviewServer

    server = ReviewServer(app, "127.0.0.1", 0).start()
    return server.url, server


@pytest.fixture(scope="session")
def live_server(seeded_db: SeededDatabase) -> Iterator[LiveServer]:
    from bot.review.app import create_app

    app = create_app(seeded_db.url, secret_key=os.urandom(32))
    base_url, server = serve(app)
    try:
        yield LiveServer(url=base_url, app=app, database=seeded_db)
    finally:
        server.stop()


def _ensure_chromium() -> None:
    if CHROMIUM.exists():
        return
    script = PROJECT_ROOT / "scripts" / "ensure-chromium.sh"
    result = subprocess.run(["bash", str(script)], capture_output=True, text=True, timeout=900)
    if result.returncode != 0 or not CHROMIUM.exists():
        pytest.fail(
            f"Debian chromium is needed for the browser tests and {script.name} failed:\n{result.stderr}"
        )


@pytest.fixture(scope="module")
def browser():
    # Module scope: sync_playwright keeps an event loop running in this thread while it is open,
    # which would break every asyncio test collected after the browser tests.
    from playwright.sync_api import sync_playwright

    _ensure_chromium()
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def page(browser, live_server: LiveServer):
    context = browser.new_context(
        base_url=live_server.url,
        accept_downloads=True,
        locale="en-GB",
        viewport={"width": 1440, "height": 900},
    )
    context.set_default_timeout(10_000)
    page = context.new_page()
    try:
        yield page
    finally:
        context.close()


def log_in(
    page, email: str = CLINICIAN, password: str = PASSWORD, *, navigate: bool = True
) -> None:
    """Fill and send the login form (on the current page when navigate=False)."""
    if navigate:
        page.goto("/login")
    page.get_by_label("E-mail address").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
