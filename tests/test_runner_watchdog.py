"""Liveness probes in `scrollcheck run`: a service that hangs without dying is killed and restarted.

The same stand-in runs as tests/test_runner_supervision.py (its fixture and helpers), with short
probe settings through the environment, as an operator would set them: a check every 0.3 s, 1.5 s
timeout, 2 misses in a row. What is checked is what the operator sees: the service answers again
from a new process, and the log says which service hung, for how long, and that it was restarted.
The last test checks the counting with the defaults, in numbers, start timeout included.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import time

import pytest

from bot.run.liveness import Liveness, ProbePolicy
from tests import test_runner_supervision
from tests.test_runner_supervision import alive, answered_by_another, health, port_free, wait_for

stand_in = test_runner_supervision.stand_in  # the fixture: runner and services, cleaned up after

PROBES = {
    "SCROLLCHECK_PROBE_INTERVAL": "0.3",
    "SCROLLCHECK_PROBE_TIMEOUT": "1.5",
    "SCROLLCHECK_PROBE_FAILURES": "2",
}
POLICY = {"first_delay": 0.5, "max_delay": 1.0}


def hung_line(name: str, port: int) -> str:
    """The operator's log line for a hung service, as a pattern."""
    return (
        rf"{name} \(pid \d+\) hung: no answer from http://127\.0\.0\.1:{port}/health for \d+ s "
        r"\(a check every 0\.3 s, 1\.5 s timeout, 2 misses in a row\); killing it to restart it "
        rf"\(log: \S+/{name}\.log\)"
    )


def hang(port: int) -> None:
    """GET /hang: the stand-in's only thread never answers again."""
    with socket.create_connection(("127.0.0.1", port), timeout=2) as sock:
        sock.sendall(b"GET /hang HTTP/1.0\r\n\r\n")


def test_a_sigstopped_service_is_killed_and_restarted_but_a_slow_one_is_not(stand_in):
    # "slow" answers every request after 0.5 s: late, but within the 1.5 s timeout, like a busy Rasa
    run = stand_in({"stopped": [], "slow": ["--slow", "0.5"]}, env=PROBES, **POLICY)
    run.wait_ready()
    port = run.ports["stopped"]
    pid = health(port)
    os.kill(pid, signal.SIGSTOP)
    stopped_at = time.monotonic()
    new_pid = wait_for(
        lambda: answered_by_another(port, pid), 20, "the service to answer from a new process"
    )
    elapsed = time.monotonic() - stopped_at
    # two misses of 1.5 s each, then the 0.5 s backoff and the start
    assert 2.5 < elapsed < 10, f"restarted {elapsed:.1f} s after SIGSTOP"
    assert not alive(pid), "the stopped process must be gone, not left behind stopped"
    text = run.text()
    assert re.search(hung_line("stopped", port), text), text
    assert re.search(
        r"stopped \(pid \d+\) was killed after it hung \(no answer for \d+ s\); restarting in "
        r"0\.5 s \(restart 1 of 5",
        text,
    ), text
    assert run.pids("stopped")[-1] == new_pid
    assert run.pids("slow") == [health(run.ports["slow"])], "the slow service must not be restarted"
    assert not re.search(r"slow \(pid \d+\) (hung|was )", text), text
    assert run.process.poll() is None


def test_a_service_that_accepts_but_never_answers_is_restarted_and_counts_as_a_death(
    stand_in, tmp_path
):
    run = stand_in({"stuck": []}, env=PROBES, max_restarts=1, window=60.0, **POLICY)
    run.wait_ready()
    port = run.ports["stuck"]
    first = health(port)
    hang(port)
    # the failure mode: the port still takes connections, but nothing answers on them
    with socket.create_connection(("127.0.0.1", port), timeout=1) as sock:
        sock.sendall(b"GET /health HTTP/1.0\r\n\r\n")
        sock.settimeout(1)
        with pytest.raises(socket.timeout):
            sock.recv(1)
    wait_for(lambda: answered_by_another(port, first), 20, "the service to answer again")
    assert re.search(hung_line("stuck", port), run.text())
    # Until the probes have seen the new process answer; on a loaded machine they may not have,
    # and then its start timeout (60 s) finds the second hang instead: slower, the same outcome.
    time.sleep(2.0)
    # the second hang is the second death within the window: max_restarts=1 ends the run
    hang(port)
    assert run.process.wait(timeout=90) == 1
    text = run.text()
    log = tmp_path / "log" / "stuck.log"
    assert re.search(
        r"stuck was killed after it hung \(no answer (for \d+ s|within 60 s of starting)\) "
        r"after 1 restarts within 60 s; "
        rf"giving up \(read {re.escape(str(log))}\)",
        text,
    ), text
    assert "Stopped every process scrollcheck started." in text
    assert not [pid for pid in run.pids("stuck") if alive(pid)]
    assert port_free(port)


def test_an_answer_resets_the_count_and_a_restart_has_its_start_timeout():
    policy = ProbePolicy(interval=5, timeout=10, failures=3)
    running = Liveness(policy, started=0, start_timeout=180, answered=100)
    assert [running.record(False, t) for t in (115, 130)] == [None, None]
    assert running.record(True, 131) is None  # one answer and the count starts again
    assert [running.record(False, t) for t in (146, 161, 176)] == [None, None, "for 45 s"]
    restarted = Liveness(policy, started=1000, start_timeout=180)
    assert [restarted.record(False, t) for t in (1015, 1170, 1179)] == [None, None, None]
    assert restarted.record(False, 1181) == "within 180 s of starting"
