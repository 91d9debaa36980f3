"""The parent-death shim: one per service, so nothing a service starts outlives `scrollcheck run`.

    python -S bot/run/shim.py RUNNER_PID GRACE_SECONDS -- COMMAND [ARGS...]

Linux's parent-death signal (prctl PR_SET_PDEATHSIG) reaches only a direct child, and `rasa run`
or a WSGI server may start processes of their own. So the runner starts this shim, not the service:

* the shim asks for SIGTERM when the runner dies (even by SIGKILL), and exits at once if the
  runner is already gone by then (the race between fork and prctl);
* it becomes a child subreaper, so every process the service starts, even a double-forked one
  whose parent has exited, stays its descendant and can be found in /proc;
* it runs the service with SIGKILL as the service's own parent-death signal (if the shim is
  killed outright, the service goes with it);
* on SIGTERM, SIGINT or SIGHUP, or when the service exits by itself, it sends SIGTERM to every
  descendant, waits up to GRACE_SECONDS, sends SIGKILL to what is left, reaps them all, and exits
  with the service's status (the same signal if the service was killed by one), so the runner can
  tell a crash from a clean exit.

Standard library only, run with -S: it must start fast and never import the project.
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys
import time
from typing import Dict, List, Optional

PR_SET_PDEATHSIG = 1
PR_SET_CHILD_SUBREAPER = 36
_STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)
_libc = ctypes.CDLL(None, use_errno=True)


def prctl(option: int, value: int) -> None:
    if _libc.prctl(option, value, 0, 0, 0) != 0:
        errno = ctypes.get_errno()
        raise OSError(errno, os.strerror(errno))


def descendants(root: int) -> List[int]:
    """Every process below `root`, from the parent pids in /proc/*/stat (the kernel here may lack
    /proc/PID/task/TID/children)."""
    children: Dict[int, List[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as handle:
                # the name in parentheses may hold spaces: the fields after the last ")" are fixed
                fields = handle.read().rsplit(b")", 1)[1].split()
        except (OSError, IndexError):
            continue
        children.setdefault(int(fields[1]), []).append(int(entry))
    found: List[int] = []
    queue = [root]
    while queue:
        for child in children.get(queue.pop(), []):
            found.append(child)
            queue.append(child)
    return found


class _Stop(Exception):
    """Raised by the signal handler so a blocking waitpid returns (PEP 475 would retry it)."""


def _on_stop(signum: int, _frame: object) -> None:
    for sig in _STOP_SIGNALS:  # one stop is enough; a second signal must not interrupt the cleanup
        signal.signal(sig, signal.SIG_IGN)
    raise _Stop(signum)


def _reap(service: int, status: Optional[int]) -> Optional[int]:
    """Collect every exited child without blocking; return the service's status once known."""
    while True:
        try:
            pid, wait_status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return status
        if pid == 0:
            return status
        if pid == service:
            status = wait_status


def _end_everything(service: int, status: Optional[int], grace: float) -> Optional[int]:
    me = os.getpid()
    for pid in descendants(me):
        _signal(pid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline:
        status = _reap(service, status)
        left = descendants(me)
        if not left:
            return status
        for pid in left:  # processes started during the grace period get the same notice
            _signal(pid, signal.SIGTERM)
        time.sleep(0.05)
    while True:
        left = descendants(me)
        if not left:
            return _reap(service, status)
        for pid in left:
            _signal(pid, signal.SIGKILL)
        time.sleep(0.02)
        status = _reap(service, status)


def _signal(pid: int, sig: int) -> None:
    try:
        os.kill(pid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def _exit_like(status: Optional[int], stopped_by: Optional[int]) -> None:
    if status is None:  # the service never reported back: say how we were stopped
        sys.exit(128 + stopped_by if stopped_by else 1)
    if os.WIFSIGNALED(status):
        sig = os.WTERMSIG(status)
        if sig not in (signal.SIGKILL, signal.SIGSTOP):  # these two cannot be caught anyway
            signal.signal(sig, signal.SIG_DFL)
            signal.pthread_sigmask(signal.SIG_UNBLOCK, [sig])
        sys.stdout.flush()
        sys.stderr.flush()
        os.kill(os.getpid(), sig)
        time.sleep(1)  # a signal the kernel does not deliver at once (e.g. SIGSTOP) ends below
        sys.exit(128 + sig)
    sys.exit(os.waitstatus_to_exitcode(status))


def main(argv: List[str]) -> None:
    if len(argv) < 4 or argv[2] != "--":
        sys.stderr.write("usage: shim.py RUNNER_PID GRACE_SECONDS -- COMMAND [ARGS...]\n")
        sys.exit(2)
    runner, grace, command = int(argv[0]), float(argv[1]), argv[3:]
    for sig in _STOP_SIGNALS:
        signal.signal(sig, _on_stop)
    stopped_by: Optional[int] = None
    service = -1
    status: Optional[int] = None
    try:
        prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
        if os.getppid() != runner:  # the runner died before prctl: nobody would send the signal
            sys.exit(1)
        prctl(PR_SET_CHILD_SUBREAPER, 1)
        shim = os.getpid()
        # Hold stop signals over the fork: the service's pid must be known before any cleanup.
        signal.pthread_sigmask(signal.SIG_BLOCK, _STOP_SIGNALS)
        service = os.fork()
        if service == 0:
            try:
                for sig in _STOP_SIGNALS:
                    signal.signal(sig, signal.SIG_DFL)
                signal.pthread_sigmask(signal.SIG_UNBLOCK, _STOP_SIGNALS)
                prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
                if os.getppid() != shim:  # the shim died before prctl
                    os._exit(1)
                os.execvp(command[0], command)
            except BaseException as exc:  # noqa: BLE001 — the child must never return into the shim
                os.write(
                    2,
                    f"scrollcheck shim: cannot start {command[0]}: {type(exc).__name__}\n".encode(),
                )
            finally:
                os._exit(127)
        signal.pthread_sigmask(signal.SIG_UNBLOCK, _STOP_SIGNALS)
        while status is None:
            pid, wait_status = os.waitpid(-1, 0)  # orphans handed to us are reaped here too
            if pid == service:
                status = wait_status
    except _Stop as stop:
        stopped_by = int(stop.args[0])
    except ChildProcessError:
        pass
    for sig in _STOP_SIGNALS:
        signal.signal(sig, signal.SIG_IGN)
    status = _end_everything(service, status, grace)
    _exit_like(status, stopped_by)


if __name__ == "__main__":
    main(sys.argv[1:])
