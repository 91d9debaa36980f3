"""`scrollcheck run` refuses to start when one of its ports is taken, and says who holds it.

Each case runs the real command with a stand-in model file: the refusal comes before Rasa is
started, before the database is migrated, before anything else.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Dict, Iterator

import pytest

from bot import PROJECT_ROOT
from bot.run.ports import Holder, holder_of, is_free, port_problems

SCROLLCHECK = str(Path(sys.executable).parent / "scrollcheck")
LISTENER = (
    "import socket, sys, time; s = socket.socket(); s.bind(('127.0.0.1', int(sys.argv[1]))); s.listen(); "
    "print('up', flush=True); time.sleep(120)"
)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def squatter() -> Iterator[Dict[str, int]]:
    """Another program listening on a loopback port: {"port": ..., "pid": ...}."""
    port = free_port()
    process = subprocess.Popen([sys.executable, "-c", LISTENER, str(port)], stdout=subprocess.PIPE)
    assert process.stdout is not None and process.stdout.readline() == b"up\n"
    try:
        yield {"port": port, "pid": process.pid}
    finally:
        process.kill()
        process.wait()


def comm(pid: int) -> str:
    return Path(f"/proc/{pid}/comm").read_text().strip()


def test_the_holder_of_a_port_is_found_by_pid_and_name(squatter):
    assert not is_free(squatter["port"])
    assert holder_of(squatter["port"]) == Holder(squatter["pid"], comm(squatter["pid"]))
    assert (
        holder_of(squatter["port"]).describe() == f"{comm(squatter['pid'])} (pid {squatter['pid']})"
    )
    assert comm(squatter["pid"]).startswith("python")


def test_a_free_port_has_no_holder_and_a_port_given_twice_is_refused():
    port = free_port()
    assert is_free(port) and holder_of(port).describe() == "another program"
    problems = port_problems({"rasa": port, "action server": port}, {})
    assert problems == [f"port {port} is given to both rasa and action server"]


def _run(tmp_path: Path, ports: Dict[str, int], *extra: str) -> subprocess.CompletedProcess:
    model = tmp_path / "model.tar.gz"
    model.write_bytes(b"not a model: the run must stop before anything reads it")
    env = dict(
        os.environ,
        DATABASE_URL=f"sqlite:///{tmp_path / 'run.db'}",
        SCROLLCHECK_RASA_PORT=str(ports["rasa"]),
        SCROLLCHECK_ACTION_PORT=str(ports["action server"]),
        SCROLLCHECK_REVIEW_PORT=str(ports["review page"]),
    )
    return subprocess.run(
        [SCROLLCHECK, "run", "--front-end", "none", "--model", str(model), *extra],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize(
    "service, setting",
    [
        ("rasa", "SCROLLCHECK_RASA_PORT"),
        ("action server", "SCROLLCHECK_ACTION_PORT"),
        ("review page", "SCROLLCHECK_REVIEW_PORT"),
    ],
)
def test_run_names_the_taken_port_and_its_holder_and_starts_nothing(
    tmp_path, squatter, service, setting
):
    ports = {"rasa": free_port(), "action server": free_port(), "review page": free_port()}
    ports[service] = squatter["port"]
    started = time.monotonic()
    result = _run(tmp_path, ports)
    assert result.returncode == 1
    name = comm(squatter["pid"])
    assert (
        f"scrollcheck run: port {squatter['port']} ({service}) is taken by {name} (pid {squatter['pid']}); "
        f"stop it, or move {service} with {setting}"
    ) in result.stderr
    assert "nothing was started" in result.stderr
    assert "Starting Rasa" not in result.stdout
    # nothing was started: no database was created, and the other ports were never taken
    assert not (tmp_path / "run.db").exists()
    assert all(is_free(port) for other, port in ports.items() if other != service)
    assert time.monotonic() - started < 30


def test_without_the_review_page_its_port_is_not_needed(tmp_path, squatter):
    ports = {
        "rasa": squatter["port"],
        "action server": free_port(),
        "review page": squatter["port"],
    }
    result = _run(tmp_path, ports, "--no-review")
    assert result.returncode == 1
    assert f"port {squatter['port']} (rasa) is taken" in result.stderr
    assert "review page" not in result.stderr
