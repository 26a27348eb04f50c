"""Parsing the ``ss`` unix-socket and ``nft`` listings ``explain <topic>`` shows (pure)."""

from __future__ import annotations

import re

from pocketcloud.explain.sockets import parse_processes

_CHAIN = re.compile(r"^\tchain (\S+) \{\n(.*?)^\t\}", re.MULTILINE | re.DOTALL)


def parse_unix(text: str) -> tuple[tuple[str, str], ...]:
    """(path, process name) of listening unix stream sockets from ``ss -Hlxp`` (pure)."""
    found = []
    for line in text.splitlines():
        cols = line.split()
        if len(cols) >= 5 and cols[0] == "u_str" and cols[4].startswith("/"):
            procs = parse_processes(line)
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
