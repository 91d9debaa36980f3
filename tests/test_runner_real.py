"""The real `scrollcheck run --front-end none` with the trained model: Rasa, the action server and
the review page on free loopback ports, then killed the ways an operator or a crash would."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Dict, Iterator, List, Optional

import pytest

from bot import PROJECT_ROOT
from bot.run.ports import holder_of, is_free
from bot.run.shim import descendants
from tests.stack import newest_model

pytestmark = pytest.mark.rasa
SCROLLCHECK = str(Path(sys.executable).parent / "scrollcheck")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return False


def started(pid: int) -> Optional[int]:
    """The process's start time in clock ticks since boot: with the pid, it names one process."""
    try:
        return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[19])
    except (OSError, IndexError, ValueError):
        return None


def answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status < 500
    except Exception:  # noqa: BLE001 — not up
        return False


def wait_until(condition, timeout: float, what: str) -> float:
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if condition():
            return time.monotonic() - started
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


class Run:
    def __init__(self, tmp_path: Path) -> None:
        model = newest_model()
        if model is None:
            pytest.fail("no trained Rasa model in models/: run `make train`")
        self.ports: Dict[str, int] = {
            "rasa": free_port(),
            "actions": free_port(),
            "review": free_port(),
        }
        self.var = tmp_path / "var"  # endpoints.yml and the logs, away from the project's var/
        env = dict(
            os.environ,
            DATABASE_URL=f"sqlite:///{tmp_path / 'run.db'}",
            SCROLLCHECK_VAR_DIR=str(self.var),
            SCROLLCHECK_RASA_PORT=str(self.ports["rasa"]),
            SCROLLCHECK_ACTION_PORT=str(self.ports["actions"]),
            SCROLLCHECK_REVIEW_PORT=str(self.ports["review"]),
        )
        self.output = tmp_path / "run.out"
        with open(self.output, "wb") as out:
            self.process = subprocess.Popen(
                [SCROLLCHECK, "run", "--front-end", "none", "--model", str(model)],
                cwd=PROJECT_ROOT,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        self.seen: Dict[
            int, Optional[int]
        ] = {}  # pid -> start time, of every process of the run seen

    def text(self) -> str:
        return self.output.read_text(errors="replace")

    def wait_ready(self) -> None:
        wait_until(
            lambda: "Services running" in self.text() or self.process.poll() is not None,
            400,
            "the services",
        )
        assert self.process.poll() is None, self.text()[-3000:]
        assert answers(f"http://127.0.0.1:{self.ports['rasa']}/")
        assert answers(f"http://127.0.0.1:{self.ports['actions']}/health")
        assert answers(f"http://127.0.0.1:{self.ports['review']}/healthz")
        assert (
            "retention purge removed 0 tracker rows" in self.text()
        )  # the purge thread still runs

    def tree(self) -> List[int]:
        pids = descendants(self.process.pid)
        self.seen.update((pid, started(pid)) for pid in pids if pid not in self.seen)
        return pids

    def left(self) -> List[int]:
        """Processes of the run still alive (a pid reused by another process does not count)."""
        return [pid for pid, start in self.seen.items() if alive(pid) and started(pid) == start]

    def close(self) -> None:
        self.tree()
        if self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGKILL)
            self.process.wait()
        for pid in self.left():
            os.kill(pid, signal.SIGKILL)


@pytest.fixture
def run(tmp_path: Path) -> Iterator[Run]:
    started = Run(tmp_path)
    try:
        yield started
    finally:
        started.close()


def test_a_killed_action_server_comes_back_and_sigkill_of_the_runner_leaves_nothing(run):
    run.wait_ready()
    action_port = run.ports["actions"]
    old = holder_of(action_port).pid
    assert old is not None and old in run.tree()
    os.kill(old, signal.SIGKILL)
    wait_until(
        lambda: (
            holder_of(action_port).pid not in (None, old)
            and answers(f"http://127.0.0.1:{action_port}/health")
        ),
        120,
        "the action server to be restarted",
    )
    assert "actions (pid" in run.text() and "was killed by SIGKILL; restarting in 1 s" in run.text()
    assert {path.name for path in (run.var / "log").glob("*.log")} == {
        "actions.log",
        "rasa.log",
        "review.log",
    }
    assert run.process.poll() is None

    tree = run.tree()
    assert len(tree) >= 6  # three shims, three services, and whatever the services started
    os.kill(run.process.pid, signal.SIGKILL)
    took = wait_until(lambda: not run.left(), 15, f"every process of the run to end: {run.left()}")
    assert took < 8.0, f"{took:.1f} s"
    assert all(is_free(port) for port in run.ports.values())


def test_ctrl_c_stops_rasa_the_action_server_and_the_review_page_within_10_seconds(run):
    run.wait_ready()
    run.tree()
    started = time.monotonic()
    os.killpg(run.process.pid, signal.SIGINT)  # what the terminal does on Ctrl-C
    code = run.process.wait(timeout=30)
    took = time.monotonic() - started
    assert code == 0
    assert took < 10.0, f"stopping took {took:.1f} s"
    assert not run.left()
    assert all(is_free(port) for port in run.ports.values())
    assert "Stopped every process scrollcheck started." in run.text()
