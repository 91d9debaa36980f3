"""Servers the tests talk to over real HTTP on 127.0.0.1.

* `RasaStack`: the real thing — `rasa run actions` and `rasa run --enable-api` (REST channel, the
  repository's credentials.yml) on free ports, the newest model in models/, a SQL tracker store on
  a temporary SQLite database that the action server also uses (DATABASE_URL). Each process runs in
  its own process group and logs to a file in the work directory; `stop()` ends both groups.
* `StandInRasa`: a small aiohttp server that speaks Rasa's REST webhook, for gateway tests that need
  exact control over what "Rasa" answers (errors, delays, control messages). It runs in its own
  thread, so synchronous tests and subprocesses can use it too.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Tuple

import yaml
from aiohttp import web

PROJECT_ROOT = Path(__file__).resolve().parent.parent
MODELS_DIR = PROJECT_ROOT / "models"
BIN = Path(sys.executable).parent
START_TIMEOUT_SECONDS = 300.0  # model loading on 2 slow cores, both servers at once


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def closed_port_url() -> str:
    """The URL of a loopback port nobody listens on (connection refused)."""
    return f"http://127.0.0.1:{free_port()}"


def newest_model() -> Optional[Path]:
    models = sorted(MODELS_DIR.glob("*.tar.gz"), key=lambda p: p.stat().st_mtime)
    return models[-1] if models else None


def http_status(url: str, timeout: float = 2.0) -> Optional[int]:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code
    except (OSError, ValueError):
        return None


# --- the real stack -----------------------------------------------------------------------------


def service_env(database_url: str) -> Dict[str, str]:
    """The environment of a Rasa, action-server or front-end process the tests start: this
    process's, plus the shared database, loopback only, no telemetry, quiet start-up."""
    env = dict(os.environ)
    env.update(
        DATABASE_URL=database_url,
        SANIC_HOST="127.0.0.1",
        RASA_TELEMETRY_ENABLED="false",
        TF_CPP_MIN_LOG_LEVEL="3",
        SQLALCHEMY_SILENCE_UBER_WARNING="1",
        PYTHONWARNINGS="ignore::DeprecationWarning",
        PYTHONPATH=str(PROJECT_ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""),
    )
    return env


@dataclass
class RasaStack:
    workdir: Path
    model: Path
    with_action_server: bool = True
    action_url_override: Optional[str] = None  # e.g. a closed port: "the action server is down"
    rasa_port: int = field(default_factory=free_port)
    action_port: int = field(default_factory=free_port)
    processes: List[Tuple[str, subprocess.Popen]] = field(default_factory=list)

    @property
    def rasa_url(self) -> str:
        return f"http://127.0.0.1:{self.rasa_port}"

    @property
    def action_url(self) -> str:
        return self.action_url_override or f"http://127.0.0.1:{self.action_port}/webhook"

    @property
    def db_path(self) -> Path:
        return self.workdir / "scrollcheck.db"

    @property
    def database_url(self) -> str:
        return f"sqlite:///{self.db_path}"

    @property
    def log_files(self) -> List[Path]:
        return sorted(self.workdir.glob("*.log"))

    def env(self) -> Dict[str, str]:
        return service_env(self.database_url)

    def write_endpoints(self) -> Path:
        try:
            from bot.storage.db import tracker_store_endpoint

            tracker_store = tracker_store_endpoint(self.database_url)
        except ImportError:  # storage not there yet: Rasa's own SQL tracker store on SQLite
            tracker_store = {"type": "SQL", "dialect": "sqlite", "db": str(self.db_path)}
        endpoints = {"action_endpoint": {"url": self.action_url}, "tracker_store": tracker_store}
        path = self.workdir / "endpoints.yml"
        path.write_text(yaml.safe_dump(endpoints, sort_keys=False), encoding="utf-8")
        return path

    def migrate(self) -> None:
        """Our tables (summaries, escalations, ...) in the same database, as `make run` does."""
        result = subprocess.run(
            [sys.executable, "-m", "bot.cli", "migrate"],
            cwd=PROJECT_ROOT,
            env=self.env(),
            capture_output=True,
            text=True,
            timeout=120,
        )
        if result.returncode != 0:
            raise RuntimeError(f"scrollcheck migrate failed:\n{result.stdout}\n{result.stderr}")

    def _spawn(self, name: str, args: List[str]) -> subprocess.Popen:
        log = open(self.workdir / f"{name}.log", "ab")
        process = subprocess.Popen(
            args,
            cwd=PROJECT_ROOT,
            env=self.env(),
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        log.close()  # the child keeps its own descriptor
        self.processes.append((name, process))
        return process

    def start(self, timeout: float = START_TIMEOUT_SECONDS) -> "RasaStack":
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.migrate()
        endpoints = self.write_endpoints()
        rasa = str(BIN / "rasa")
        if self.with_action_server:
            self._spawn(
                "actions",
                [rasa, "run", "actions", "--actions", "actions", "--port", str(self.action_port)],
            )
        self._spawn(
            "rasa",
            [
                rasa,
                "run",
                "--enable-api",
                "--model",
                str(self.model),
                "--endpoints",
                str(endpoints),
                "--credentials",
                str(PROJECT_ROOT / "credentials.yml"),
                "--interface",
                "127.0.0.1",
                "--port",
                str(self.rasa_port),
                "--log-file",
                str(self.workdir / "rasa-logfile.log"),
            ],
        )
        deadline = time.monotonic() + timeout
        checks = [(self.rasa_url + "/", "rasa")]
        if self.with_action_server:
            checks.append((f"http://127.0.0.1:{self.action_port}/health", "actions"))
        for url, name in checks:
            while http_status(url) != 200:
                process = dict(self.processes)[name]
                if process.poll() is not None or time.monotonic() > deadline:
                    self.stop()
                    log = (self.workdir / f"{name}.log").read_text(errors="replace")[-4000:]
                    raise RuntimeError(
                        f"{name} did not become healthy at {url}; last log lines:\n{log}"
                    )
                time.sleep(0.5)
        return self

    def stop(self) -> None:
        for _, process in self.processes:
            if process.poll() is None:
                try:
                    os.killpg(process.pid, signal.SIGTERM)
                except ProcessLookupError:
                    pass
        for _, process in self.processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)
        self.processes.clear()


# --- a stand-in for Rasa ------------------------------------------------------------------------


@dataclass
class RasaRequest:
    sender: str
    message: str
    metadata: Optional[Dict[str, Any]]
    raw: Dict[str, Any]


@dataclass
class CannedAnswer:
    """What the stand-in answers: a JSON body (or raw text) with a status, after a delay."""

    body: Any = field(default_factory=list)
    status: int = 200
    delay: float = 0.0
    raw_text: Optional[str] = None


Responder = Callable[[RasaRequest], CannedAnswer]


def echo_responder(request: RasaRequest) -> CannedAnswer:
    return CannedAnswer([{"recipient_id": request.sender, "text": f"echo: {request.message}"}])


class StandInRasa:
    """Rasa's REST webhook on a free loopback port; `responder` decides every answer."""

    def __init__(self, responder: Responder = echo_responder) -> None:
        self.responder = responder
        self.requests: List[RasaRequest] = []
        self.root_status = 200
        self.health_status = 200  # GET /health, as rasa_sdk's action server answers it
        # Like Rasa's greeting: the first answer to each sender carries the `disclosed` control.
        self.disclose_first = False
        self._disclosed_to: set = set()
        self._lock = threading.Lock()
        self._loop: Optional[asyncio.AbstractEventLoop] = None
        self._runner: Optional[web.AppRunner] = None
        self._thread: Optional[threading.Thread] = None
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def received(self) -> List[RasaRequest]:
        with self._lock:
            return list(self.requests)

    async def _webhook(self, request: web.Request) -> web.StreamResponse:
        data = await request.json()
        received = RasaRequest(data.get("sender"), data.get("message"), data.get("metadata"), data)
        with self._lock:
            self.requests.append(received)
        answer = self.responder(received)
        if (
            self.disclose_first
            and received.sender not in self._disclosed_to
            and isinstance(answer.body, list)
        ):
            self._disclosed_to.add(received.sender)
            answer = CannedAnswer(
                answer.body + [{"custom": {"scrollcheck": {"disclosed": True}}}],
                answer.status,
                answer.delay,
                answer.raw_text,
            )
        if answer.delay:
            await asyncio.sleep(answer.delay)
        if answer.raw_text is not None:
            return web.Response(
                status=answer.status, text=answer.raw_text, content_type="text/plain"
            )
        return web.json_response(answer.body, status=answer.status)

    async def _root(self, request: web.Request) -> web.Response:
        return web.Response(status=self.root_status, text="Hello from the stand-in Rasa")

    async def _health(self, request: web.Request) -> web.Response:
        return web.json_response({"status": "ok"}, status=self.health_status)

    @property
    def action_url(self) -> str:
        """The stand-in also plays the action server, as far as its /health goes."""
        return f"{self.url}/webhook"

    def start(self, port: int = 0) -> "StandInRasa":
        ready = threading.Event()

        def serve() -> None:
            loop = asyncio.new_event_loop()
            asyncio.set_event_loop(loop)
            self._loop = loop
            app = web.Application()
            app.router.add_post("/webhooks/rest/webhook", self._webhook)
            app.router.add_get("/", self._root)
            app.router.add_get("/health", self._health)
            runner = web.AppRunner(app, access_log=None)
            loop.run_until_complete(runner.setup())
            site = web.TCPSite(runner, "127.0.0.1", port)
            loop.run_until_complete(site.start())
            self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
            self._runner = runner
            ready.set()
            loop.run_forever()
            pending = [task for task in asyncio.all_tasks(loop) if not task.done()]
            for task in pending:  # e.g. a long poll still waiting
                task.cancel()
            loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
            loop.run_until_complete(runner.cleanup())
            loop.close()

        self._thread = threading.Thread(target=serve, name="stand-in-rasa", daemon=True)
        self._thread.start()
        if not ready.wait(10):
            raise RuntimeError("the stand-in Rasa did not start")
        return self

    def stop(self) -> None:
        if self._loop is not None and self._thread is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(10)
