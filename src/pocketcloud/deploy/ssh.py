"""The one runner: every step goes through OpenSSH, rsync or a local process, echoed first.

Like invoke's Runner, local and remote steps share one result and one failure: a failed
step raises :class:`StepFailed`, whose message names the step, shows the command it ran,
its exit code and the tail of its output. This module is hosting's only edge to the OS.
"""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from pocketcloud.deploy.steps import Local, Login, Plan, Remote, Step, Sync

TAIL_LINES = 25
Echo = Callable[[str, str], None]  # (kind, text): kind is "step", "command", "output", "warn"


class StepFailed(Exception):
    """A step exited non-zero (or could not start)."""

    def __init__(self, title: str, shown: str, exit_code: int, output: str) -> None:
        self.title, self.shown, self.exit_code = title, shown, exit_code
        self.tail = "\n".join(output.rstrip().splitlines()[-TAIL_LINES:])
        super().__init__(f"step '{title}' failed (exit {exit_code})\n$ {shown}\n{self.tail}")


@dataclass(frozen=True)
class Connection:
    """How this machine reaches the server: the login, and how its host key is checked."""

    login: Login
    known_hosts: Path
    #: "yes" when the host key was learned from the cloud (console output), else "accept-new"
    strict: str = "accept-new"

    def options(self) -> list[str]:
        control = f"/tmp/pocketcloud-ssh-{os.getuid()}-%C"  # noqa: S108 (per-user, ssh's own socket)
        opts = {
            "BatchMode": "yes", "ConnectTimeout": "10", "LogLevel": "ERROR",
            "UserKnownHostsFile": str(self.known_hosts), "StrictHostKeyChecking": self.strict,
            "ControlPath": control, "ServerAliveInterval": "15",
        }  # fmt: skip
        if self.login.key:
            opts["IdentitiesOnly"] = "yes"
        words = [f"-o{k}={v}" for k, v in opts.items()]
        key = ["-i", self.login.key] if self.login.key else []
        return [*key, "-p", str(self.login.port), *words]

    def ssh(self, *, master: bool = False) -> list[str]:
        """The ssh command (without the remote command); ``master`` opens the shared connection."""
        mode = (
            ["-fN", "-oControlMaster=yes", "-oControlPersist=120"]
            if master
            else ["-oControlMaster=no"]
        )
        return ["ssh", *self.options(), *mode, self.login.destination]


class Runner:
    """Runs steps against one server, echoing each as the shell line it is."""

    def __init__(self, connection: Connection, echo: Echo, *, timeout: float = 1800) -> None:
        self.connection, self.echo, self.timeout = connection, echo, timeout
        self.login = connection.login

    def open(self) -> None:
        """Start the shared ssh connection the steps reuse (runs ssh; quiet if it fails:
        each step then connects on its own)."""
        subprocess.run(
            [*self.connection.ssh(master=True)],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            check=False, timeout=30,
        )  # fmt: skip

    def close(self) -> None:
        """Stop the shared connection (runs ``ssh -O exit``)."""
        argv = [*self.connection.ssh(), "-Oexit"]
        subprocess.run(argv, capture_output=True, check=False, timeout=10)

    def wait(self, timeout: float = 120) -> None:
        """Until a login succeeds (a new instance boots); StepFailed with ssh's last words."""
        deadline, last = time.monotonic() + timeout, ""
        self.echo("command", f"{self.login.shown()} true")
        while time.monotonic() < deadline:
            done = self._call([*self.connection.ssh(), "true"], None, 20)
            if done.returncode == 0:
                return
            last = done.stdout
            time.sleep(0.5)
        raise StepFailed("log in over ssh", f"{self.login.shown()} true", 255, last)

    def capture(self, title: str, command: str, stdin: str | None = None) -> str:
        """Run a remote command quietly and return its output (StepFailed if it fails)."""
        done = self._call([*self.connection.ssh(), command], stdin, self.timeout)
        if done.returncode != 0:
            shown = Remote(title, command, stdin, "-").shown(self.login)
            raise StepFailed(title, shown, done.returncode, done.stdout)
        return done.stdout

    def stream(self, command: str) -> int:
        """Run a remote command with its output going straight to this terminal (``logs -f``);
        its exit code."""
        argv = [*self.connection.ssh(), command]
        return subprocess.run(argv, stdin=subprocess.DEVNULL, check=False).returncode

    def run(self, step: Step) -> str:
        """Echo and run one step; its output (StepFailed if it fails)."""
        shown = step.shown(self.login)
        self.echo("step", step.title)
        self.echo("command", shown)
        argv, stdin = self._argv(step)
        started = time.monotonic()
        done = self._call(argv, stdin, self.timeout)
        if done.stdout.strip():
            self.echo("output", done.stdout.rstrip())
        self.echo("took", f"{time.monotonic() - started:.1f} s")
        if done.returncode != 0:
            raise StepFailed(step.title, shown, done.returncode, done.stdout)
        if isinstance(step, Local) and step.marker:
            Path(step.marker).touch()
        return done.stdout

    def run_plan(self, plan: Plan) -> list[StepFailed]:
        """Run every step. A failure before the commit point runs the undo steps and is
        raised; a failure after it (the new release serves already) is returned."""
        late: list[StepFailed] = []
        for index, step in enumerate(plan.steps):
            try:
                self.run(step)
            except StepFailed as failed:
                if index >= plan.commit and plan.commit > 0:
                    self.echo("warn", str(failed))
                    late.append(failed)
                    continue
                self._undo(plan)
                raise
        return late

    def _undo(self, plan: Plan) -> None:
        for step in plan.undo:
            try:
                self.run(step)
            except StepFailed as failed:
                self.echo("warn", f"undo: {failed}")

    def _argv(self, step: Step) -> tuple[list[str], str | None]:
        if isinstance(step, Remote):
            return [*self.connection.ssh(), step.command], step.stdin
        if isinstance(step, Sync):
            ssh = " ".join(["ssh", *self.connection.options(), "-oControlMaster=no"])
            dest = f"{self.login.destination}:{step.dest}"
            return ["rsync", *step.options, "-e", ssh, step.source, dest], None
        return list(step.argv), None

    @staticmethod
    def _call(
        argv: list[str], stdin: str | None, timeout: float
    ) -> subprocess.CompletedProcess[str]:
        try:
            return subprocess.run(
                argv, input=stdin, stdin=None if stdin is not None else subprocess.DEVNULL,
                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, errors="replace",
                timeout=timeout, check=False,
            )  # fmt: skip
        except (OSError, subprocess.TimeoutExpired) as exc:
            return subprocess.CompletedProcess(
                argv, 255 if isinstance(exc, OSError) else 124, str(exc)
            )
