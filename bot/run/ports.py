"""Are the runner's ports free on 127.0.0.1, and if not, which process holds each one.

`scrollcheck run` checks before it starts anything: a server left over from an earlier run would
otherwise keep answering while the new one dies on the clash. The holder comes from /proc (the
listening socket's inode in /proc/net/tcp{,6}, then the process with that inode among its open
files); when /proc does not tell (another user's process), it is "another program".
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from typing import Dict, List, Mapping, Optional, Set

_LISTEN = "0A"  # TCP state in /proc/net/tcp


@dataclass(frozen=True)
class Holder:
    pid: Optional[int] = None
    name: Optional[str] = None

    def describe(self) -> str:
        if self.pid is None:
            return "another program"
        return f"{self.name or 'a process'} (pid {self.pid})"


def is_free(port: int, host: str = "127.0.0.1") -> bool:
    """Whether a server could bind host:port now (a closed connection in TIME_WAIT does not count,
    as the servers themselves set SO_REUSEADDR)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            return False
    return True


def _listening_inodes(port: int) -> Set[str]:
    inodes: Set[str] = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(table, encoding="ascii") as handle:
                next(handle, None)
                for line in handle:
                    fields = line.split()
                    if (
                        len(fields) > 9
                        and fields[3] == _LISTEN
                        and int(fields[1].rsplit(":", 1)[1], 16) == port
                    ):
                        inodes.add(fields[9])
        except OSError:
            continue
    inodes.discard("0")
    return inodes


def holder_of(port: int) -> Holder:
    """The process listening on `port`, as far as /proc tells."""
    wanted = {f"socket:[{inode}]" for inode in _listening_inodes(port)}
    if not wanted:
        return Holder()
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            fds = os.listdir(f"/proc/{entry}/fd")
        except OSError:
            continue
        for fd in fds:
            try:
                if os.readlink(f"/proc/{entry}/fd/{fd}") in wanted:
                    return Holder(int(entry), _name(int(entry)))
            except OSError:
                continue
    return Holder()


def _name(pid: int) -> Optional[str]:
    try:
        with open(f"/proc/{pid}/comm", encoding="utf-8", errors="replace") as handle:
            return handle.read().strip() or None
    except OSError:
        return None


def port_problems(ports: Mapping[str, int], settings: Mapping[str, str]) -> List[str]:
    """One sentence per port that is taken or given twice; `ports` maps a service to its port,
    `settings` a service to the environment variable that moves it."""
    problems: List[str] = []
    users: Dict[int, str] = {}
    for service, port in ports.items():
        if port in users:
            problems.append(f"port {port} is given to both {users[port]} and {service}")
            continue
        users[port] = service
        if not is_free(port):
            hint = (
                f"; stop it, or move {service} with {settings[service]}"
                if service in settings
                else ""
            )
            problems.append(
                f"port {port} ({service}) is taken by {holder_of(port).describe()}{hint}"
            )
    return problems
