"""Running host commands; the one place a failed command becomes a ``HostError``."""

from __future__ import annotations

import subprocess
from collections.abc import Mapping, Sequence


class HostError(RuntimeError):
    """A host command failed: the command, its exit code and the tail of its stderr."""

    def __init__(self, cmd: Sequence[str], exit_code: int, stderr: str) -> None:
        self.cmd = list(cmd)
        self.exit_code = exit_code
        self.stderr = stderr
        tail = "\n".join(stderr.strip().splitlines()[-10:])
        super().__init__(f"`{' '.join(self.cmd)}` exited with {exit_code}: {tail}")


def run(
    cmd: Sequence[str],
    *,
    input: bytes | None = None,
    env: Mapping[str, str] | None = None,
    timeout: float = 600,
    check: bool = True,
) -> subprocess.CompletedProcess[bytes]:
    """Run a command without a shell; HostError if it fails and ``check`` is set."""
    try:
        result = subprocess.run(
            list(cmd), input=input, capture_output=True, env=env, timeout=timeout, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise HostError(cmd, -1, str(exc)) from exc
    if check and result.returncode != 0:
        raise HostError(cmd, result.returncode, result.stderr.decode("utf-8", "replace"))
    return result


def output(cmd: Sequence[str], **kwargs: object) -> str:
    """A command's standard output as text (HostError if it fails)."""
    return run(cmd, **kwargs).stdout.decode("utf-8", "replace")  # type: ignore[arg-type]
