"""Shell text from argument lists (pure): the one place where words become a command line.

Kamal's ``commands/`` return word arrays and join them at the edge; so do we. A value —
a path, a host name, a release id, a module — only ever reaches a remote shell as one
word of ``words`` (``shlex.join``), so no value can end a command or start another. The
few shell operators a step needs (``&&``, ``||``, redirections) are constants here, and
logic that needs shell variables or loops lives in a script file sent on ssh's stdin
(``remote/checks.sh``), its values passed as arguments (``sh -s -- ARG…``).
"""

from __future__ import annotations

import shlex
from collections.abc import Iterable
from pathlib import PurePosixPath

Word = str | int | PurePosixPath


def words(*parts: Word) -> str:
    """One command: each part one word, quoted where the shell would read it otherwise."""
    return shlex.join(str(part) for part in parts)


def each(lines: Iterable[str]) -> str:
    """Commands run in order while they succeed (``a && b``)."""
    return " && ".join(lines)


def after(lines: Iterable[str]) -> str:
    """Commands run in order whatever each ends with (``a; b``)."""
    return "; ".join(lines)


def silent(line: str) -> str:
    """A command whose output goes nowhere (``tee``'s copy of its input)."""
    return f"{line} >/dev/null"


def quiet(line: str) -> str:
    """A command whose error messages go nowhere."""
    return f"{line} 2>/dev/null"


def or_else(line: str, fallback: str) -> str:
    """``line``, or ``fallback`` if it fails (grouped, so it composes with ``each``)."""
    return f"{{ {line} || {fallback}; }}"


def anyway(line: str) -> str:
    """A command whose failure does not fail the step (``|| true``)."""
    return or_else(line, "true")


def script(*args: Word) -> str:
    """The shell reading a script from stdin, with ``args`` as its ``$1…``."""
    return words("sh", "-s", "--", *args)
