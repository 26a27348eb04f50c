"""Parsing ``ss`` and ``nft`` listings into values (pure)."""

from __future__ import annotations

import re
from collections.abc import Iterable

from pocketcloud.explain.topics_facts import Socket

_PROCESS = re.compile(r'\("([^"]*)",pid=(\d+)')
_CHAIN = re.compile(r"^\tchain (\S+) \{\n(.*?)^\t\}", re.MULTILINE | re.DOTALL)


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


def parse_unix(text: str) -> tuple[tuple[str, str], ...]:
    """(path, process name) of listening unix stream sockets from ``ss -Hlxp`` (pure)."""
    found = []
    for line in text.splitlines():
        cols = line.split()
        if len(cols) >= 5 and cols[0] == "u_str" and cols[4].startswith("/"):
            procs = _PROCESS.findall(line)
            found.append((cols[4], procs[0][0] if procs else ""))
    return tuple(found)


def parse_chains(listing: str) -> dict[str, tuple[str, ...]]:
    """Each chain of an ``nft list table`` listing and its rule lines (pure)."""
    chains = {}
    for match in _CHAIN.finditer(listing):
        lines = (line.strip() for line in match.group(2).splitlines())
        chains[match.group(1)] = tuple(
            line for line in lines if line and not line.startswith("type ")
        )
    return chains


def _unique(procs: Iterable[tuple[str, int]]) -> tuple[tuple[str, int], ...]:
    """Processes sorted by pid, each once (nginx's workers share the master's socket)."""
    return tuple(sorted(set(procs), key=lambda p: p[1]))
