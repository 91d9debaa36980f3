"""Supervision in `scrollcheck run`, with stand-in services so each case takes seconds.

The runner under test is bot.runner.run_services (the same code `scrollcheck run` runs) in a
process of its own, supervising small HTTP servers on real loopback ports. The servers can start
a grandchild that ignores SIGTERM and a double-forked daemon in a session of its own, the
processes most likely to be left behind, and can hang or answer slowly for the liveness probes
(tests/test_runner_watchdog.py). Every check is made in /proc and on the ports.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Callable, Dict, Iterator, List, Optional, Set, Tuple

import pytest

from bot import PROJECT_ROOT
from bot.run.shim import descendants

# A stand-in service: serves /health on PORT, appends its pid to RECORD, and can start processes
# of its own, ignore SIGTERM, exit with a code after a while, or answer every request late. GET
# /hang never answers, and the server answers nothing after it (one thread): connections are still
# accepted (the kernel's backlog) but never answered, like a stuck event loop.
SERVICE = r"""
import http.server, os, signal, subprocess, sys, threading, time
port, record = int(sys.argv[1]), sys.argv[2]
options = sys.argv[3:]
if "--ignore-term" in options:
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
if "--family" in options:
    subprocess.Popen([sys.executable, "-c",
        "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(600)"])
    if os.fork() == 0:  # a daemon: double fork, new session; its parent exits at once
        os.setsid()
        if os.fork() == 0:
            time.sleep(600)
        os._exit(0)
if "--exit-after" in options:
    seconds, code = float(options[options.index("--exit-after") + 1]), int(options[options.index("--exit-after") + 2])
    threading.Timer(seconds, lambda: os._exit(code)).start()
slow = float(options[options.index("--slow") + 1]) if "--slow" in options else 0.0

class Health(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        if self.path == "/hang":
            threading.Event().wait()
        time.sleep(slow)
        body = str(os.getpid()).encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *args):
        pass

server = http.server.HTTPServer(("127.0.0.1", port), Health)
with open(record, "a") as handle:
    handle.write(f"{os.getpid()} {time.time()}\n")
server.serve_forever()
"""

# The runner: run_services with the services and restart policy given as JSON.
RUNNER = r"""
import json, logging, os, sys
from pathlib import Path
from bot.run.supervisor import RestartPolicy, Service, Supervisor
from bot.runner import run_services, wait_until_stopped

config = json.loads(sys.argv[1])
logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
services = [Service(s["name"], s["argv"], s["port"], health_url=f"http://127.0.0.1:{s['port']}/health")
            for s in config["services"]]
# the liveness probes as SCROLLCHECK_PROBE_* say (the test's environment)
supervisor = Supervisor(services, cwd=Path.cwd(), env=os.environ, log_dir=Path(config["log_dir"]),
                        policy=RestartPolicy(**config["policy"]))
readiness = [(s["name"], f"http://127.0.0.1:{s['port']}/health", 30, s["name"]) for s in config["services"]]
sys.exit(run_services(supervisor, readiness, wait_until_stopped))
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"  # a zombie holds no port and no memory; only its parent's wait is missing


def started(pid: int) -> Optional[int]:
    """The process's start time in clock ticks since boot: with the pid, it names one process."""
    try:
        return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[19])
    except (OSError, IndexError, ValueError):
        return None


def port_free(port: int) -> bool:
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def health(port: int) -> Optional[int]:
    """The pid that answered /health, or None."""
    import urllib.request

    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=1) as response:
            return int(response.read())
    except Exception:  # noqa: BLE001 — not up
        return None


def wait_for(condition: Callable[[], object], timeout: float, what: str) -> object:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def records(path: Path) -> List[tuple]:
    if not path.exists():
        return []
    return [
        (int(pid), float(at))
        for pid, at in (line.split() for line in path.read_text().splitlines())
    ]


class StandInRun:
    """One runner process supervising stand-in services."""

    def __init__(
        self,
        tmp_path: Path,
        services: Dict[str, List[str]],
        env: Optional[Dict[str, str]] = None,
        **policy: float,
    ) -> None:
        self.tmp = tmp_path
        script = tmp_path / "service.py"
        script.write_text(SERVICE)
        self.ports = {name: free_port() for name in services}
        self.records = {name: tmp_path / f"{name}.pids" for name in services}
        config = {
            "log_dir": str(tmp_path / "log"),
            "policy": policy,
            "services": [
                {
                    "name": name,
                    "port": self.ports[name],
                    "argv": [
                        sys.executable,
                        str(script),
                        str(self.ports[name]),
                        str(self.records[name]),
                        *options,
                    ],
                }
                for name, options in services.items()
            ],
        }
        self.output = tmp_path / "runner.out"
        self.seen: Set[Tuple[int, Optional[int]]] = (
            set()
        )  # (pid, start time) of every process seen, for the clean-up
        env = dict(os.environ, PYTHONPATH=str(PROJECT_ROOT), **(env or {}))
        with open(self.output, "wb") as out:
            # a session of its own, like a terminal's foreground job: Ctrl-C goes to its group
            self.process = subprocess.Popen(
                [sys.executable, "-c", RUNNER, json.dumps(config)],
                cwd=tmp_path,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def wait_ready(self) -> None:
        for name, port in self.ports.items():
            wait_for(lambda port=port: health(port), 30, f"{name} to answer")  # type: ignore[misc]
        wait_for(
            lambda: b"Services running" in self.output.read_bytes(),
            10,
            "the runner to report the services up",
        )

    def text(self) -> str:
        return self.output.read_text(errors="replace")

    def pids(self, name: str) -> List[int]:
        return [pid for pid, _ in records(self.records[name])]

    def tree(self) -> List[int]:
        pids = descendants(self.process.pid)
        self.seen.update((pid, started(pid)) for pid in pids)
        return pids

    def left(self) -> List[int]:
        """Processes of the run still alive (a pid reused by another process does not count)."""
        return [pid for pid, start in self.seen if alive(pid) and started(pid) == start]

    def close(self) -> None:
        if self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGKILL)
            self.process.wait()


@pytest.fixture
def stand_in(tmp_path: Path) -> Iterator[Callable[..., StandInRun]]:
    runs: List[StandInRun] = []

    def start(
        services: Dict[str, List[str]], env: Optional[Dict[str, str]] = None, **policy: float
    ) -> StandInRun:
        run = StandInRun(tmp_path, services, env, **policy)
        runs.append(run)
        return run

    yield start
    for run in runs:
        run.tree()
        run.close()
        for pid, start in run.seen:  # never leave anything behind, even when an assertion failed
            if start is not None and started(pid) == start:  # the same process, not a reused pid
                os.kill(pid, signal.SIGKILL)


def test_a_service_that_dies_is_restarted_after_1_then_2_seconds(stand_in):
    run = stand_in({"web": []}, first_delay=1.0, max_delay=8.0, max_restarts=5, window=600.0)
    run.wait_ready()
    starts: List[float] = []
    for expected_delay in (1.0, 2.0):
        pid = health(run.ports["web"])
        killed_at = time.time()
        os.kill(pid, signal.SIGKILL)
        new_pid = wait_for(
            lambda old=pid: answered_by_another(run.ports["web"], old),
            15,  # type: ignore[misc]
            "the service to answer again from a new process",
        )
        started_at = dict(records(run.records["web"]))[new_pid]
        starts.append(started_at - killed_at)
        assert expected_delay <= started_at - killed_at < expected_delay + 2.5, starts
    assert run.process.poll() is None, "the runner must keep running"
    text = run.text()
    assert "web (pid" in text and "was killed by SIGKILL; restarting in 1 s" in text
    assert "restarting in 2 s" in text


def answered_by_another(port: int, old: int) -> Optional[int]:
    pid = health(port)
    return pid if pid not in (None, old) else None


def test_too_many_restarts_end_the_run_with_the_reason(stand_in, tmp_path):
    # healthy for a second, then exit code 3: a service that crashes again after every restart
    run = stand_in(
        {"flaky": ["--exit-after", "1.0", "3"]},
        first_delay=0.2,
        max_delay=1.0,
        max_restarts=2,
        window=60.0,
    )
    code = run.process.wait(timeout=30)
    text = run.text()
    assert code == 1
    assert len(run.pids("flaky")) == 3  # the first start and two restarts
    log = tmp_path / "log" / "flaky.log"
    assert f"flaky exited with code 3 after 2 restarts within 60 s; giving up (read {log})" in text
    assert "Stopped every process scrollcheck started." in text
    assert not [pid for pid in run.pids("flaky") if alive(pid)]
    assert port_free(run.ports["flaky"])


def test_a_port_taken_while_the_service_was_down_is_named_and_not_fought_over(stand_in):
    # the failure: a stale server takes the port, and the restarted one would die on it
    run = stand_in({"web": []}, first_delay=1.5, max_delay=1.5, max_restarts=2, window=60.0)
    run.wait_ready()
    os.kill(health(run.ports["web"]), signal.SIGKILL)
    squatter = socket.socket()
    squatter.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as servers do
    try:
        wait_for(lambda: _try_bind(squatter, run.ports["web"]), 5, "the port to be released")
        squatter.listen()
        code = run.process.wait(timeout=20)
        assert code == 1
        assert len(run.pids("web")) == 1, "nothing may be started on a port somebody else holds"
        assert f"its port {run.ports['web']} is held by" in run.text()
        assert f"(pid {os.getpid()})" in run.text()
    finally:
        squatter.close()


def _try_bind(sock: socket.socket, port: int) -> bool:
    try:
        sock.bind(("127.0.0.1", port))
    except OSError:
        return False
    return True


def test_killing_the_runner_with_sigkill_leaves_no_process_and_frees_the_ports(stand_in):
    run = stand_in({"one": ["--family"], "two": ["--family"]}, grace=2.0, stop_timeout=4.0)
    run.wait_ready()
    tree = wait_for(
        lambda: len(run.tree()) >= 8 and run.tree(),
        10,
        "shims, services, grandchildren and daemons",
    )
    # the daemons have left their service's session and process group: only the shim still knows them
    assert len({os.getsid(pid) for pid in tree}) >= 4
    os.kill(run.process.pid, signal.SIGKILL)
    killed = time.monotonic()
    wait_for(lambda: not run.left(), 10, f"every process of the run to end ({len(tree)})")
    elapsed = time.monotonic() - killed
    assert elapsed < 2.0 + 1.5, (
        f"took {elapsed:.1f} s; the SIGTERM-proof grandchildren should go at the 2 s grace"
    )
    assert all(port_free(port) for port in run.ports.values())


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_ctrl_c_and_sigterm_stop_everything_within_10_seconds(stand_in, sig):
    # the product's own stop timings; a service that ignores SIGTERM forces the SIGKILL path
    run = stand_in({"stubborn": ["--ignore-term", "--family"], "polite": []})
    run.wait_ready()
    tree = run.tree()
    assert len(tree) >= 6
    started = time.monotonic()
    os.killpg(run.process.pid, sig) if sig == signal.SIGINT else os.kill(run.process.pid, sig)
    code = run.process.wait(timeout=15)
    elapsed = time.monotonic() - started
    assert code == 0
    assert elapsed < 10.0, f"stopping took {elapsed:.1f} s"
    assert not run.left()
    assert all(port_free(port) for port in run.ports.values())
    assert "Stopped every process scrollcheck started." in run.text()
