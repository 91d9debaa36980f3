"""`scrollcheck run` (what `make run` calls): start every process, chat, stop them all on Ctrl-C.

Processes, all bound to 127.0.0.1: the action server (:5055), `rasa run` with the REST channel
(:5005), the clinician review page (:8050). The front end runs in this process: the console, or
the Telegram bot when TELEGRAM_BOT_TOKEN is set. Raw trackers are purged hourly (retention
SCROLLCHECK_RETENTION_DAYS, default 30).
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
from typing import Dict, List, Optional

import yaml

from bot import PROJECT_ROOT

logger = logging.getLogger("scrollcheck.runner")
VAR_DIR = PROJECT_ROOT / "var"
LOG_DIR = VAR_DIR / "log"
MODEL = PROJECT_ROOT / "models" / "scrollcheck.tar.gz"
BIN = Path(sys.executable).parent


def write_endpoints(path: Path, action_port: int, database_url: Optional[str] = None) -> Path:
    """endpoints.yml for `rasa run`: our action server, and the tracker store in our database."""
    from bot.storage.db import tracker_store_endpoint

    endpoints = {
        "action_endpoint": {"url": f"http://127.0.0.1:{action_port}/webhook"},
        "tracker_store": tracker_store_endpoint(database_url),
    }
    lock_store = os.environ.get("SCROLLCHECK_REDIS_URL")
    if lock_store:  # several Rasa replicas: conversations must be locked across processes
        from urllib.parse import urlparse

        url = urlparse(lock_store)
        endpoints["lock_store"] = {"type": "redis", "url": url.hostname, "port": url.port or 6379, "db": int((url.path or "/0").strip("/") or 0)}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(endpoints, sort_keys=False), encoding="utf-8")
    path.chmod(0o600)  # may hold a database password
    return path


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


def start_process(name: str, args: List[str]) -> subprocess.Popen:
    LOG_DIR.mkdir(parents=True, exist_ok=True)
    log = open(LOG_DIR / f"{name}.log", "ab")
    logger.info("starting %s (log: var/log/%s.log)", name, name)
    # Own process group, so Ctrl-C in the console does not hit children mid-write; we stop them.
    return subprocess.Popen(args, cwd=PROJECT_ROOT, env=_child_env(), stdout=log, stderr=subprocess.STDOUT, start_new_session=True)


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


def stop_processes(processes: List[subprocess.Popen]) -> None:
    for process in processes:
        if process.poll() is None:
            try:
                os.killpg(process.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
    for process in processes:
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)


def purge_forever(retention: dt.timedelta, every_seconds: float, stop: threading.Event) -> None:
    from bot.storage.purge import purge_trackers

    while not stop.is_set():
        try:
            deleted = purge_trackers(retention)
            logger.info("retention purge removed %d tracker rows", deleted)
        except Exception as exc:  # noqa: BLE001 — retry on the next round
            logger.error("retention purge failed: %s", type(exc).__name__)
        stop.wait(every_seconds)


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="scrollcheck run", description=__doc__)
    parser.add_argument("--rasa-port", type=int, default=int(os.environ.get("SCROLLCHECK_RASA_PORT", 5005)))
    parser.add_argument("--action-port", type=int, default=int(os.environ.get("SCROLLCHECK_ACTION_PORT", 5055)))
    parser.add_argument("--review-port", type=int, default=int(os.environ.get("SCROLLCHECK_REVIEW_PORT", 8050)))
    parser.add_argument("--no-review", action="store_true", help="do not start the clinician page")
    parser.add_argument("--front-end", choices=["auto", "console", "telegram", "none"], default="auto")
    parser.add_argument("--model", type=Path, default=MODEL, help="the Rasa model (default: models/scrollcheck.tar.gz)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if not args.model.exists():
        print(f"No trained model at {args.model} — run `make run` (it trains first).", file=sys.stderr)
        return 2

    from bot.storage.migrate import upgrade

    upgrade()
    endpoints = write_endpoints(VAR_DIR / "endpoints.yml", args.action_port)
    processes: List[subprocess.Popen] = []
    stop = threading.Event()
    try:
        actions = start_process("actions", [str(BIN / "rasa"), "run", "actions", "--actions", "actions", "--port", str(args.action_port)])
        processes.append(actions)
        rasa = start_process("rasa", [
            str(BIN / "rasa"), "run", "--model", str(args.model), "--endpoints", str(endpoints),
            "--credentials", str(PROJECT_ROOT / "credentials.yml"), "--interface", "127.0.0.1",
            "--port", str(args.rasa_port),
        ])
        processes.append(rasa)
        if not args.no_review:
            processes.append(start_process("review", [str(BIN / "scrollcheck"), "review", "--host", "127.0.0.1", "--port", str(args.review_port)]))
        retention = dt.timedelta(days=float(os.environ.get("SCROLLCHECK_RETENTION_DAYS", "30")))
        threading.Thread(target=purge_forever, args=(retention, 3600.0, stop), daemon=True).start()

        print("Starting Rasa (about 20 seconds)…", flush=True)
        if not wait_for_http(f"http://127.0.0.1:{args.action_port}/health", 90, actions):
            print("The action server did not start; see var/log/actions.log", file=sys.stderr)
            return 1
        if not wait_for_http(f"http://127.0.0.1:{args.rasa_port}/", 180, rasa):
            print("Rasa did not start; see var/log/rasa.log", file=sys.stderr)
            return 1
        if not args.no_review:
            print(f"Clinician review page: http://127.0.0.1:{args.review_port}/", flush=True)
        rasa_url = f"http://127.0.0.1:{args.rasa_port}"
        action_url = f"http://127.0.0.1:{args.action_port}/webhook"
        front_end = args.front_end
        if front_end == "auto":
            front_end = "telegram" if os.environ.get("TELEGRAM_BOT_TOKEN") else "console"
        if front_end == "console":
            from bot.console import main as console_main

            return console_main(["--rasa-url", rasa_url, "--action-url", action_url])
        if front_end == "telegram":
            from bot.telegram.app import main as telegram_main

            os.environ.setdefault("SCROLLCHECK_RASA_URL", rasa_url)
            return telegram_main(["--rasa-url", rasa_url, "--action-url", action_url])
        print("Services running; Ctrl-C stops them.")
        while all(p.poll() is None for p in processes):
            time.sleep(1)
        return 1
    except KeyboardInterrupt:
        return 0
    finally:
        stop.set()
        stop_processes(processes)
        print("Stopped every process scrollcheck started.")
