"""Listening sockets as ``ss`` shows them (pure): ``explain reach`` reads the target's
listeners from them, ``explain <topic>`` the sockets of every instance and of this host."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

_PROCESS = re.compile(r'\("([^"]*)",pid=(\d+)')


@dataclass(frozen=True)
class Socket:
    """A listening socket: where it listens and which processes hold it."""

    proto: str
    address: str  # "0.0.0.0", "::", "*" (every address), "127.0.0.1", an instance address
    port: int
    processes: tuple[tuple[str, int], ...] = ()  # (name, pid)


def parse_ss(text: str) -> tuple[Socket, ...]:
    """Listening sockets from ``ss -Hltnp`` (or ``-Hlunp``) output (pure)."""
    found = []
    for line in text.splitlines():
        cols = line.split()
        if len(cols) < 5 or cols[0] not in ("LISTEN", "UNCONN"):
            continue
        address, _, port = cols[3].rpartition(":")
        if not port.isdigit():
            continue
        address = address.strip("[]").split("%")[0]
        procs = tuple((name, int(pid)) for name, pid in _PROCESS.findall(line))
        found.append(Socket("tcp", address, int(port), _unique(procs)))
    return tuple(found)


def parse_processes(line: str) -> list[tuple[str, str]]:
    """(name, pid) of each process ``ss -p`` names on one line (pure)."""
    return _PROCESS.findall(line)


def _unique(procs: Iterable[tuple[str, int]]) -> tuple[tuple[str, int], ...]:
    """Processes sorted by pid, each once (nginx's workers share the master's socket)."""
    return tuple(sorted(set(procs), key=lambda p: p[1]))
