"""Keeping a program running on the server: pocketcloud-init services or systemd units (pure).

On a pocketcloud instance PID 1 is pocketcloud-init: a service is a JSON file in
``/etc/pocketcloud/services/`` and ``kill -HUP 1`` makes init start, restart or stop
what changed; it restarts a service that dies and starts them all at boot. On a systemd
host the same service becomes a unit with ``Restart=always``.
"""

from __future__ import annotations

import json
import shlex
from dataclasses import dataclass, field

from pocketcloud.deploy import shell as sh
from pocketcloud.deploy.layout import SERVICES_DIR

SYSTEMD_DIR = "/etc/systemd/system"


@dataclass(frozen=True)
class Service:
    """A long-running program: what to run, where, with which environment."""

    name: str
    argv: tuple[str, ...]
    cwd: str = "/"
    env: dict[str, str] = field(default_factory=dict)
    description: str = ""

    def init_spec(self) -> str:
        """The pocketcloud-init service file."""
        spec = {"argv": list(self.argv), "cwd": self.cwd, "env": self.env}
        return json.dumps(spec, indent=2, sort_keys=True) + "\n"

    def unit(self) -> str:
        """The systemd unit file."""
        env = "".join(f'Environment="{k}={v}"\n' for k, v in sorted(self.env.items()))
        return (
            f"[Unit]\nDescription={self.description or self.name}\nAfter=network.target\n\n"
            f"[Service]\nExecStart={shlex.join(self.argv)}\nWorkingDirectory={self.cwd}\n{env}"
            "Restart=always\nRestartSec=1\nKillMode=mixed\nTimeoutStopSec=30\n\n"
            "[Install]\nWantedBy=multi-user.target\n"
        )


def definition_path(supervisor: str, name: str) -> str:
    """Where the service's file lives on a host run by ``supervisor``."""
    if supervisor == "systemd":
        return f"{SYSTEMD_DIR}/{name}.service"
    return f"{SERVICES_DIR}/{name}.json"


def enable(supervisor: str, service: Service) -> tuple[str, str]:
    """(shell line, file content on its stdin) that starts ``service`` and keeps it running."""
    path = definition_path(supervisor, service.name)
    write = sh.silent(sh.words("sudo", "tee", path))
    if supervisor == "systemd":
        line = sh.each(
            [
                write,
                sh.words("sudo", "systemctl", "daemon-reload"),
                sh.words("sudo", "systemctl", "enable", "--now", service.name),
                sh.words("sudo", "systemctl", "restart", service.name),
            ]
        )
        return line, service.unit()
    return sh.each([write, sh.words("sudo", "kill", "-HUP", "1")]), service.init_spec()


def disable(supervisor: str, names: list[str]) -> str:
    """The shell line that stops services and keeps them from starting again."""
    files = [definition_path(supervisor, n) for n in names]
    if supervisor == "systemd":
        return sh.after(
            [
                sh.words("sudo", "systemctl", "disable", "--now", *names),
                sh.each(
                    [sh.words("sudo", "rm", "-f", *files),
                     sh.words("sudo", "systemctl", "daemon-reload")]
                ),
            ]
        )  # fmt: skip
    return sh.each([sh.words("sudo", "rm", "-f", *files), sh.words("sudo", "kill", "-HUP", "1")])


def nginx(supervisor: str) -> tuple[str, str | None]:
    """(shell line, stdin) that runs nginx under the supervisor (``commands.wait_nginx``
    then waits for its pid file)."""
    if supervisor == "systemd":
        return sh.words("sudo", "systemctl", "enable", "--now", "nginx"), None
    service = Service("nginx", ("/usr/sbin/nginx", "-g", "daemon off;"), description="nginx")
    return enable(supervisor, service)
