"""Start the services through the shim, restart one that dies, stop them all.

Each service runs under bot/run/shim.py (see there): the shim dies with the runner, even when the
runner is killed with SIGKILL, and takes every process the service started with it. A service
that dies is restarted after 1, 2, 4, 8 … seconds (capped); after `max_restarts` restarts within
`window` seconds the supervisor gives up and reports which service, how it ended and which log
to read. Log lines name services, pids, ports and exit codes only.

A service with a health URL is also probed (bot/run/liveness.py): one that stops answering without
dying is killed with SIGKILL and then restarted like a service that died, and counts as a death.

Linux sends the parent-death signal when the *thread* that started the process ends, so every
start happens either in the main thread or in the watcher thread, which lives until `stop()`; the
probe threads only ever kill.
"""

from __future__ import annotations

import collections
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Deque, Dict, List, Mapping, Optional

from bot.run import ports as port_check
from bot.run.liveness import Liveness, ProbePolicy, answers
from bot.run.shim import descendants

logger = logging.getLogger("scrollcheck.runner")
SHIM = Path(__file__).with_name("shim.py")


@dataclass(frozen=True)
class Service:
    name: str
    argv: List[str]
    port: Optional[int] = None
    health_url: Optional[str] = None  # a cheap GET it answers once up; probed while it runs
    start_timeout: float = 60.0  # seconds it may take to answer health_url after a (re)start


@dataclass(frozen=True)
class RestartPolicy:
    first_delay: float = 1.0
    max_delay: float = 30.0
    max_restarts: int = 5
    window: float = 600.0
    # what a shim waits for its service after SIGTERM before SIGKILL; with the runner's own wait
    # (`stop_timeout`) this keeps Ctrl-C under 10 s
    grace: float = 5.0
    stop_timeout: float = 8.0

    def delay(self, restarts_in_window: int) -> float:
        return min(self.max_delay, self.first_delay * 2 ** max(0, restarts_in_window - 1))


def describe_exit(returncode: int) -> str:
    if returncode < 0:
        try:
            return f"was killed by {signal.Signals(-returncode).name}"
        except ValueError:
            return f"was killed by signal {-returncode}"
    return f"exited with code {returncode}"


class Supervisor:
    def __init__(
        self,
        services: List[Service],
        *,
        cwd: Path,
        env: Mapping[str, str],
        log_dir: Path,
        policy: RestartPolicy = RestartPolicy(),
        on_give_up: Callable[[str], None] = lambda reason: None,
        log_label: Callable[[Path], str] = str,
        probes: Optional[ProbePolicy] = None,  # None: SCROLLCHECK_PROBE_* (bot/settings.py)
    ) -> None:
        self.services = {service.name: service for service in services}
        self.cwd, self.env, self.log_dir, self.policy = cwd, dict(env), log_dir, policy
        self.on_give_up, self.log_label = on_give_up, log_label
        self.probes = probes if probes is not None else ProbePolicy.from_settings()
        self.processes: Dict[str, subprocess.Popen] = {}
        self._started: Dict[str, float] = {}  # service -> when its current process started
        self._hung: Dict[int, str] = {}  # pid of a shim killed as hung -> how it hung
        self.failure: Optional[str] = None
        self._stopping = threading.Event()
        self._lock = threading.RLock()  # held over a restart, so stop() never misses a new process
        self._restarts: Dict[str, Deque[float]] = {
            name: collections.deque() for name in self.services
        }
        self._watcher: Optional[threading.Thread] = None

    def log_path(self, name: str) -> Path:
        return self.log_dir / f"{name}.log"

    # --- starting -------------------------------------------------------------------------------

    def start_all(self) -> None:
        for name in self.services:
            self._start(name)

    def _start(self, name: str) -> subprocess.Popen:
        service = self.services[name]
        self.log_dir.mkdir(parents=True, exist_ok=True)
        # -I -S: the shim needs the standard library only, and nothing on PYTHONPATH may shadow it
        command = [
            sys.executable,
            "-I",
            "-S",
            str(SHIM),
            str(os.getpid()),
            str(self.policy.grace),
            "--",
            *service.argv,
        ]
        with open(self.log_path(name), "ab") as log:
            # A session of its own: Ctrl-C in the terminal reaches the runner only, which stops the
            # services in order instead of interrupting them mid-write.
            process = subprocess.Popen(
                command,
                cwd=self.cwd,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        with self._lock:
            self.processes[name] = process
            self._started[name] = time.monotonic()
        logger.info(
            "started %s (pid %d, log: %s)", name, process.pid, self.log_label(self.log_path(name))
        )
        return process

    # --- watching -------------------------------------------------------------------------------

    def watch(self) -> None:
        """From now on, restart a service that dies (in a thread that lives until stop()), and
        kill one that stops answering. Call it once the services answer."""
        self._watcher = threading.Thread(target=self._watch, name="supervisor", daemon=True)
        self._watcher.start()
        if not self.probes.enabled:
            return
        for service in self.services.values():
            if service.health_url:
                threading.Thread(
                    target=self._probe, args=(service,), name=f"probe {service.name}", daemon=True
                ).start()

    def _watch(self) -> None:
        try:
            self._watch_loop()
        except Exception as exc:  # noqa: BLE001 — an unwatched run must not go on silently
            logger.error("the supervisor failed", exc_info=True)
            self._give_up(
                f"the supervisor failed ({type(exc).__name__}); services are no longer watched"
            )

    def _give_up(self, reason: str) -> None:
        self.failure = reason
        logger.error("%s", reason)
        self.on_give_up(reason)
        self._stopping.wait()  # keep this thread (the parent of the shims) alive until stop()

    def _watch_loop(self) -> None:
        due: Dict[str, float] = {}  # service -> when to restart it
        while not self._stopping.wait(0.2):
            now = time.monotonic()
            for name in self.services:
                if name in due:
                    if now >= due[name]:
                        del due[name]
                        self._restart(name)
                    continue
                process = self.processes[name]
                code = process.poll()
                if code is None:
                    continue
                how = self._how_it_ended(process.pid, code)
                reason = self._give_up_reason(name, how, now)
                if reason:
                    self._give_up(reason)
                    return
                delay = self.policy.delay(len(self._restarts[name]))
                logger.warning(
                    "%s (pid %d) %s; restarting in %s s (restart %d of %d within %.0f s; log: %s)",
                    name,
                    process.pid,
                    how,
                    f"{delay:g}",
                    len(self._restarts[name]),
                    self.policy.max_restarts,
                    self.policy.window,
                    self.log_label(self.log_path(name)),
                )
                due[name] = now + delay

    def _how_it_ended(self, pid: int, code: int) -> str:
        with self._lock:
            hung = self._hung.pop(pid, None)
        return f"was killed after it hung ({hung})" if hung else describe_exit(code)

    def _give_up_reason(self, name: str, how: str, now: float) -> Optional[str]:
        restarts = self._restarts[name]
        while restarts and now - restarts[0] > self.policy.window:
            restarts.popleft()
        if len(restarts) >= self.policy.max_restarts:
            return (
                f"{name} {how} after {len(restarts)} restarts within {self.policy.window:.0f} s; "
                f"giving up (read {self.log_label(self.log_path(name))})" + self._port_note(name)
            )
        restarts.append(now)
        return None

    def _port_note(self, name: str) -> str:
        port = self.services[name].port
        if port is None or port_check.is_free(port):
            return ""
        return f"; its port {port} is held by {port_check.holder_of(port).describe()}"

    def _restart(self, name: str) -> None:
        port = self.services[name].port
        if port is not None and not port_check.is_free(port):
            # Someone else took the port while the service was down: starting it would only fail.
            # The old process stays in place, so the watcher counts this as another failed restart.
            holder = port_check.holder_of(port).describe()
            logger.warning("%s not restarted: port %d is held by %s", name, port, holder)
            return
        with self._lock:
            if not self._stopping.is_set():
                self._start(name)

    # --- probing --------------------------------------------------------------------------------

    def _probe(self, service: Service) -> None:
        """Probe one service until stop(); each new process is judged afresh (Liveness)."""
        assert service.health_url is not None
        current: Optional[subprocess.Popen] = None
        liveness: Optional[Liveness] = None
        while not self._stopping.wait(self.probes.interval):
            with self._lock:
                process, started = self.processes[service.name], self._started[service.name]
            if process is not current:
                # the processes running when watch() began had answered; a restarted one has not
                answered = time.monotonic() if current is None else None
                current = process
                liveness = Liveness(self.probes, started, service.start_timeout, answered)
            if process.poll() is not None:
                continue  # dead: the watcher restarts it
            ok = answers(service.health_url, self.probes.timeout)
            assert liveness is not None
            hung = liveness.record(ok, time.monotonic())
            if hung and process.poll() is None:
                self._kill_hung(service, process, hung)

    def _kill_hung(self, service: Service, process: subprocess.Popen, hung: str) -> None:
        """SIGKILL every process of the service; its shim then exits as the service did (killed by
        SIGKILL), and the watcher restarts it with the usual backoff."""
        with self._lock:
            if self._stopping.is_set() or self.processes[service.name] is not process:
                return
            self._hung[process.pid] = f"no answer {hung}"
            logger.error(
                "%s (pid %d) hung: no answer from %s %s (a check every %g s, %g s timeout, %d misses "
                "in a row); killing it to restart it (log: %s)",
                service.name,
                process.pid,
                service.health_url,
                hung,
                self.probes.interval,
                self.probes.timeout,
                self.probes.failures,
                self.log_label(self.log_path(service.name)),
            )
            for pid in descendants(process.pid):
                _signal(pid, signal.SIGKILL)
            _signal(process.pid, signal.SIGCONT)  # in case the shim was stopped with its service
        # The shim reaps and exits at once; should it not (stuck itself), it goes the same way.
        deadline = time.monotonic() + self.policy.grace
        while process.poll() is None and time.monotonic() < deadline:
            if self._stopping.wait(0.1):
                return
        if process.poll() is None:
            _kill_tree(process.pid)

    # --- stopping -------------------------------------------------------------------------------

    def stop(self) -> None:
        """SIGTERM to every shim (each ends its service's processes), SIGKILL after stop_timeout."""
        with self._lock:
            self._stopping.set()
            processes = list(self.processes.values())
        for process in processes:
            if process.poll() is None:
                _signal(process.pid, signal.SIGTERM)
        deadline = time.monotonic() + self.policy.stop_timeout
        for process in processes:
            try:
                process.wait(max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                pass
        for process in processes:
            if process.poll() is None:
                logger.warning(
                    "pid %d did not stop in %.0f s; killing it",
                    process.pid,
                    self.policy.stop_timeout,
                )
                _kill_tree(process.pid)
                process.wait()
        if self._watcher is not None:
            self._watcher.join(timeout=2)


def _kill_tree(shim: int) -> None:
    """SIGKILL a shim, everything below it and its process group."""
    for pid in [shim, *descendants(shim)]:
        _signal(pid, signal.SIGKILL)
    try:
        os.killpg(shim, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def _signal(pid: int, sig: int) -> None:
    try:
        os.kill(pid, sig)
    except (ProcessLookupError, PermissionError):
        pass
