"""A deploy as data: the steps a plan is made of (pure).

Kamal's habit: building a command never runs it. A step is what a learner would type —
an ssh line, an rsync line, a local command — and ``shown`` is that line as printed.
"""

from __future__ import annotations

import os
import shlex
from dataclasses import dataclass


@dataclass(frozen=True)
class Login:
    """Who logs in where, with which key (the seed's ``ssh -i <pem> ubuntu@<address>``)."""

    user: str
    host: str
    port: int = 22
    key: str | None = None

    @property
    def destination(self) -> str:
        return f"{self.user}@{self.host}"

    def ssh_words(self) -> list[str]:
        """``ssh -i KEY [-p PORT]`` as shown to a reader (home folder written ``~``)."""
        words = ["ssh"]
        if self.key:
            home = os.path.expanduser("~")
            shown = "~" + self.key[len(home) :] if self.key.startswith(home + "/") else self.key
            words += ["-i", shown]
        return words + (["-p", str(self.port)] if self.port != 22 else [])

    def shown(self) -> str:
        return " ".join([*self.ssh_words(), self.destination])


@dataclass(frozen=True)
class Remote:
    """A shell line run on the server through OpenSSH, as the login user."""

    title: str
    command: str
    stdin: str | None = None
    #: what the echo shows after ``<`` when the step feeds ``stdin`` (a file's name)
    stdin_name: str = ""

    def shown(self, login: Login) -> str:
        fed = f" < {self.stdin_name}" if self.stdin is not None else ""
        return f"{login.shown()} {shlex.quote(self.command)}{fed}"


@dataclass(frozen=True)
class Sync:
    """rsync from this machine to the server over the same ssh key (a delta copy)."""

    title: str
    source: str
    dest: str
    options: tuple[str, ...] = ()

    def shown(self, login: Login) -> str:
        ssh = shlex.quote(" ".join(login.ssh_words()))
        return (
            shlex.join(["rsync", *self.options, "-e", "SSH", self.source]).replace(
                "-e SSH", f"-e {ssh}"
            )
            + f" {login.destination}:{self.dest}"
        )


@dataclass(frozen=True)
class Local:
    """A command run on this machine."""

    title: str
    argv: tuple[str, ...]
    #: a file the runner creates when the command succeeds (a cache's "complete" mark)
    marker: str = ""

    def shown(self, login: Login) -> str:
        del login
        return shlex.join(self.argv)


Step = Remote | Sync | Local


@dataclass(frozen=True)
class Plan:
    """The steps of a deploy and what undoes a failed one.

    ``undo`` runs when a step before ``commit`` fails: it stops the new release's server
    and removes its folder, so the release already serving is untouched. Steps from
    ``commit`` on come after the switch (retire the old release, prune): their failure
    is reported, the new release keeps serving.
    """

    steps: tuple[Step, ...] = ()
    undo: tuple[Step, ...] = ()
    commit: int = 0
    notes: tuple[str, ...] = ()
