"""`scrollcheck run` (what `make run` calls): start every process, chat, stop them all on Ctrl-C.

Processes, all bound to 127.0.0.1: the action server (:5055), `rasa run` with the REST channel
(:5005), the clinician review page (:8050). The front end runs in this process: the console, or
the Telegram bot when TELEGRAM_BOT_TOKEN is set. Raw trackers are purged hourly (retention
SCROLLCHECK_RETENTION_DAYS, default 30).

Supervision (bot/run/):
* ports.py       before anything starts: each port must be free; a taken one is named with the
                 process that holds it, and nothing starts (exit 1).
* shim.py        every service runs under a shim that dies with this process, even on SIGKILL
                 (Linux's parent-death signal), and takes every process the service started along.
* supervisor.py  after start-up a service that dies is restarted after 1, 2, 4, 8 … s (capped at
                 30 s); the 6th death within 10 minutes ends the run with exit 1, naming the
                 service, how it ended and its log.
* liveness.py    a service that is running but no longer answers its health URL (about 45 s by
                 default, SCROLLCHECK_PROBE_*) is killed and restarted the same way, and counts
                 as a death. The front end runs in this process, so it needs no probe.
Ctrl-C and SIGTERM stop every service within 10 s (SIGTERM, then SIGKILL after 5 s).
"""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path
from types import FrameType
from typing import Callable, Dict, List, Optional, Sequence, Tuple

from bot import PROJECT_ROOT, settings
from bot.logformat import configure as configure_logging
from bot.run.liveness import ProbePolicy
from bot.run.ports import port_problems
from bot.run.supervisor import Service, Supervisor, describe_exit

logger = logging.getLogger("scrollcheck.runner")
VAR_DIR = settings.VAR_DIR.get()
LOG_DIR = VAR_DIR / "log"
MODEL = PROJECT_ROOT / "models" / "scrollcheck.tar.gz"
BIN = Path(sys.executable).parent
# the environment variable that moves each service's port, for the message when one is taken
PORT_SETTINGS = {
    "rasa": settings.RASA_PORT.name,
    "action server": settings.ACTION_PORT.name,
    "review page": settings.REVIEW_PORT.name,
}
# what messages call each service
LABELS = {"actions": "The action server", "rasa": "Rasa", "review": "The clinician review page"}


def write_endpoints(path: Path, action_port: int, database_url: Optional[str] = None) -> Path:
    """endpoints.yml for `rasa run`: our action server, the tracker store in our database, and
    with SCROLLCHECK_REDIS_URL Rasa's Redis lock store (several replicas: docs/deploy.md)."""
    from bot import endpoints

    config = endpoints.endpoints(
        f"http://127.0.0.1:{action_port}/webhook", database_url, settings.REDIS_URL.get() or None
    )
    return endpoints.write_endpoints(path, config)


def _child_env() -> Dict[str, str]:
    env = dict(os.environ)
    # Rasa sends anonymous usage telemetry unless told not to; a service for young people sends
    # nothing to third parties unless its operator opts in (RASA_TELEMETRY_ENABLED=true).
    env.setdefault("RASA_TELEMETRY_ENABLED", "false")
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    env.setdefault("SQLALCHEMY_SILENCE_UBER_WARNING", "1")
    env["SANIC_HOST"] = "127.0.0.1"  # the action server binds loopback only
    env["PYTHONPATH"] = str(PROJECT_ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    return env


def log_label(path: Path) -> str:
    """var/log/rasa.log rather than an absolute path, when it is under the project."""
    return str(path.relative_to(PROJECT_ROOT)) if path.is_relative_to(PROJECT_ROOT) else str(path)


def wait_for_http(url: str, timeout: float, process: subprocess.Popen) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            return False
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status < 500:
                    return True
        except Exception:  # noqa: BLE001 — not up yet
            time.sleep(0.5)
    return False


# (service, URL that answers once it is up, seconds to wait, what to call it in a message)
Readiness = Tuple[str, str, float, str]


def _interrupt(_signum: int, _frame: Optional[FrameType]) -> None:
    raise KeyboardInterrupt  # SIGTERM ends the run exactly like Ctrl-C


def wait_until_stopped() -> int:
    """The front end `none`: keep the services up until Ctrl-C or SIGTERM."""
    print("Services running; Ctrl-C stops them.", flush=True)
    while True:
        time.sleep(3600)


def run_services(
    supervisor: Supervisor, readiness: Sequence[Readiness], front_end: Callable[[], int]
) -> int:
    """Start the services, wait until they answer, run the front end in this thread while the
    supervisor watches them, and stop them all however this ends. Exit code: the front end's,
    1 when a service did not start or the supervisor gave up, 0 on Ctrl-C or SIGTERM."""
    main_thread = threading.get_ident()
    stopping = threading.Event()

    def give_up(_reason: str) -> None:
        if (
            not stopping.is_set()
        ):  # wake the front end: console, Telegram and `none` all stop on SIGTERM
            signal.pthread_kill(main_thread, signal.SIGTERM)

    supervisor.on_give_up = give_up
    previous = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    signal.signal(signal.SIGTERM, _interrupt)
    code = 0
    try:
        supervisor.start_all()
        for name, url, timeout, label in readiness:
            process = supervisor.processes[name]
            if not wait_for_http(url, timeout, process):
                returncode = process.poll()
                how = (
                    describe_exit(returncode)
                    if returncode is not None
                    else f"did not answer within {timeout:.0f} s"
                )
                print(
                    f"{label} did not start ({how}); see {log_label(supervisor.log_path(name))}",
                    file=sys.stderr,
                )
                return 1
        supervisor.watch()
        code = front_end()
    except KeyboardInterrupt:
        code = 0
    finally:
        stopping.set()
        # A second Ctrl-C must not cut the shutdown short (and if the runner is killed instead,
        # the shims still end every service).
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        supervisor.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler if handler is not None else signal.SIG_DFL)
        print("Stopped every process scrollcheck started.", flush=True)
    if supervisor.failure:
        print(f"scrollcheck run: {supervisor.failure}", file=sys.stderr)
        return 1
    return code


def purge_forever(retention: dt.timedelta, every_seconds: float, stop: threading.Event) -> None:
    from bot.storage.purge import purge_trackers

    while not stop.is_set():
        try:
            deleted = purge_trackers(retention)
            logger.info("retention purge removed %d tracker rows", deleted)
        except Exception as exc:  # noqa: BLE001 — retry on the next round
            logger.error("retention purge failed: %s", type(exc).__name__, exc_info=True)
        stop.wait(every_seconds)


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="scrollcheck run", description=__doc__)
    parser.add_argument("--rasa-port", type=int, default=settings.RASA_PORT.get())
    parser.add_argument("--action-port", type=int, default=settings.ACTION_PORT.get())
    parser.add_argument("--review-port", type=int, default=settings.REVIEW_PORT.get())
    parser.add_argument("--no-review", action="store_true", help="do not start the clinician page")
    parser.add_argument(
        "--front-end", choices=["auto", "console", "telegram", "none"], default="auto"
    )
    parser.add_argument(
        "--model",
        type=Path,
        default=MODEL,
        help="the Rasa model (default: models/scrollcheck.tar.gz)",
    )
    args = parser.parse_args(argv)
    configure_logging(logging.INFO)
    if not args.model.exists():
        print(
            f"No trained model at {args.model} — run `make run` (it trains first).", file=sys.stderr
        )
        return 2

    ports = {"rasa": args.rasa_port, "action server": args.action_port}
    if not args.no_review and args.review_port:  # 0: the review page picks a free port itself
        ports["review page"] = args.review_port
    problems = port_problems(ports, PORT_SETTINGS)
    if problems:
        for problem in problems:
            print(f"scrollcheck run: {problem}", file=sys.stderr)
        print("scrollcheck run: nothing was started.", file=sys.stderr)
        return 1

    from bot.storage.migrate import upgrade

    upgrade()
    endpoints = write_endpoints(VAR_DIR / "endpoints.yml", args.action_port)
    # Each health URL is the cheapest GET the service answers: Rasa's and the action server's
    # answer from their event loops without touching the model or the actions.
    action_health = f"http://127.0.0.1:{args.action_port}/health"
    rasa_health = f"http://127.0.0.1:{args.rasa_port}/"
    services = [
        Service(
            "actions",
            [
                str(BIN / "rasa"),
                "run",
                "actions",
                "--actions",
                "actions",
                "--port",
                str(args.action_port),
            ],
            args.action_port,
            health_url=action_health,
            start_timeout=90,
        ),
        Service(
            "rasa",
            [
                str(BIN / "rasa"),
                "run",
                "--model",
                str(args.model),
                "--endpoints",
                str(endpoints),
                "--credentials",
                str(PROJECT_ROOT / "credentials.yml"),
                "--interface",
                "127.0.0.1",
                "--port",
                str(args.rasa_port),
            ],
            args.rasa_port,
            health_url=rasa_health,
            start_timeout=180,
        ),
    ]
    if not args.no_review:
        review = [
            str(BIN / "scrollcheck"),
            "review",
            "--host",
            "127.0.0.1",
            "--port",
            str(args.review_port),
        ]
        # port 0: the page picks its own, which the runner does not learn, so it is not probed
        review_url = f"http://127.0.0.1:{args.review_port}/healthz" if args.review_port else None
        services.append(Service("review", review, args.review_port or None, health_url=review_url))
    # the first start waits as long for each service as a restart does
    readiness: List[Readiness] = [
        (service.name, service.health_url, service.start_timeout, LABELS[service.name])
        for service in services
        if service.health_url
    ]
    supervisor = Supervisor(
        services,
        cwd=PROJECT_ROOT,
        env=_child_env(),
        log_dir=LOG_DIR,
        log_label=log_label,
        probes=ProbePolicy.from_settings(),
    )

    rasa_url = f"http://127.0.0.1:{args.rasa_port}"
    action_url = f"http://127.0.0.1:{args.action_port}/webhook"
    front_end = args.front_end
    if front_end == "auto":
        front_end = "telegram" if settings.TELEGRAM_BOT_TOKEN.get() else "console"

    def run_front_end() -> int:
        if not args.no_review:
            print(f"Clinician review page: http://127.0.0.1:{args.review_port}/", flush=True)
        if front_end == "console":
            from bot.console import main as console_main

            return console_main(["--rasa-url", rasa_url, "--action-url", action_url])
        if front_end == "telegram":
            from bot.telegram.app import main as telegram_main

            os.environ.setdefault("SCROLLCHECK_RASA_URL", rasa_url)
            return telegram_main(["--rasa-url", rasa_url, "--action-url", action_url])
        return wait_until_stopped()

    stop = threading.Event()
    try:
        retention = settings.retention()
        threading.Thread(target=purge_forever, args=(retention, 3600.0, stop), daemon=True).start()
        print("Starting Rasa (about 20 seconds)…", flush=True)
        return run_services(supervisor, readiness, run_front_end)
    finally:
        stop.set()
