"""The services an instance's init keeps running: systemd's enabled units, the small way.

Standard library only, staged next to :mod:`.init` (see ``init.stage``) and imported by it
before ``pivot_root``, so nothing here may import lazily. It never imports :mod:`.init`
(that module runs as ``__main__``): init hands over its ``spawn`` and ``log``.

The contract (the hosting tool codes against it):

- A service is ``/etc/pocketcloud/services/<name>.json`` (name: ``[A-Za-z0-9_.@-]+``);
  enabled = the file exists. ``{"argv": ["/abs/prog", ...], "env": {"K": "V"}, "cwd": "/",
  "log": "/var/log/pocketcloud/<name>.log"}``, only ``argv`` required, no other keys.
  argv[0] must be an absolute path to an executable file. It runs as root of the
  instance in its own session, env on top of init's clean environment, stdin /dev/null,
  stdout and stderr appended to the log (0640, its directory created), in ``cwd``
  (through ``/usr/bin/env --chdir=<cwd>``, which execs the program: same pid).
- An invalid file is logged to the console, skipped (as if absent) and listed as
  ``failed`` with its ``error`` in the status file.
- At boot every valid file starts, in name order. On SIGHUP init re-reads the directory:
  new files start, removed ones stop, changed ones (parsed content) restart; unchanged
  running services are left alone.
- Stop: SIGTERM to the main pid, SIGKILL to its process group after 30 s. A service
  being stopped is not restarted.
- Any exit of the main pid restarts it after 1 s, doubling for each exit within 10 s
  of its start, up to 10 s; back to 1 s after a run of 10 s or more. Whenever the main
  pid exits, what is left of its process group gets SIGKILL (systemd's cgroup cleanup,
  so an orphaned nginx worker cannot hold the port against the restart).
- ``/run/pocketcloud/services.json`` (0644, temp + rename) is rewritten on every change:
  ``{"<name>": {"pid": 12 | null, "state": "running" | "restarting" | "stopping" |
  "failed", "restarts": 3, "since": <unix time of the last start> | null}}``; written
  (``{}``) at boot even with no service: it marks a host supervised by pocketcloud-init.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

SERVICES_DIR = "/etc/pocketcloud/services"
STATUS_FILE = "/run/pocketcloud/services.json"
LOG_DIR = "/var/log/pocketcloud"
ENV_PROGRAM = "/usr/bin/env"
KEYS = ("argv", "env", "cwd", "log")
MAX_FILE = 64 * 1024
STOP_TIMEOUT = 30.0
FIRST_DELAY, MAX_DELAY, STABLE_AFTER = 1.0, 10.0, 10.0
_NAME_RE = re.compile(r"[A-Za-z0-9_.@-]+")
_ENV_KEY_RE = re.compile(r"[^=\0]+")

#: spawn(argv, extra environment, fd for stdout and stderr) → pid
Spawn = Callable[[list[str], dict[str, str], int], int]


class State(StrEnum):
    """A service's state in the status file."""

    RUNNING = "running"
    RESTARTING = "restarting"
    STOPPING = "stopping"
    FAILED = "failed"


@dataclass(frozen=True)
class ServiceSpec:
    """One service file, parsed."""

    name: str
    argv: tuple[str, ...]
    env: tuple[tuple[str, str], ...] = ()
    cwd: str = "/"
    log: str = ""

    def command(self) -> list[str]:
        """The argv init spawns: ``env`` changes directory, then execs the program."""
        return [ENV_PROGRAM, f"--chdir={self.cwd}", *self.argv]


def parse_spec(name: str, text: str) -> ServiceSpec:
    """A service from its name and its file's JSON text (pure; ValueError naming the fault)."""
    if not _NAME_RE.fullmatch(name):
        raise ValueError(f"the name must be made of [A-Za-z0-9_.@-]: {name!r}")
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise ValueError(f"bad JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise ValueError("not a JSON object")
    unknown = sorted(set(data) - set(KEYS))
    if unknown:
        raise ValueError(f"unknown keys {unknown} (known: {', '.join(KEYS)})")
    argv = _argv(data.get("argv"))
    env = _env(data.get("env", {}))
    cwd = _path(data.get("cwd", "/"), "cwd")
    log = _path(data.get("log", f"{LOG_DIR}/{name}.log"), "log")
    return ServiceSpec(name, argv, env, cwd, log)


def _argv(value: Any) -> tuple[str, ...]:
    if not isinstance(value, list) or not value or not all(isinstance(a, str) for a in value):
        raise ValueError("argv must be a non-empty list of strings")
    if any("\0" in arg for arg in value):
        raise ValueError("argv must not contain NUL characters")
    if not value[0].startswith("/") or "=" in value[0]:
        raise ValueError(f"argv[0] must be an absolute path without '=': {value[0]!r}")
    return tuple(value)


def _env(value: Any) -> tuple[tuple[str, str], ...]:
    if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
        raise ValueError("env must be an object of strings")
    for key, item in value.items():
        if not _ENV_KEY_RE.fullmatch(key) or "\0" in item:
            raise ValueError(f"bad environment variable {key!r}")
    return tuple(sorted(value.items()))


def _path(value: Any, what: str) -> str:
    if not isinstance(value, str) or not value.startswith("/") or "\0" in value:
        raise ValueError(f"{what} must be an absolute path: {value!r}")
    return value


def restart_delay(previous: float, ran_for: float) -> float:
    """Seconds to wait before restarting a service that exited after ``ran_for`` s (pure).

    ``previous`` is the delay that preceded its last start (0: none): 1 s after a run of
    10 s or more, else the previous delay doubled, at most 10 s.
    """
    if previous <= 0 or ran_for >= STABLE_AFTER:
        return FIRST_DELAY
    return min(previous * 2, MAX_DELAY)


@dataclass(frozen=True)
class Plan:
    """What a reload does, by service name."""

    start: tuple[str, ...] = ()
    stop: tuple[str, ...] = ()
    restart: tuple[str, ...] = ()


def plan(wanted: Mapping[str, ServiceSpec], current: Mapping[str, ServiceSpec]) -> Plan:
    """Start what is new, stop what is gone, restart what changed; all in name order (pure)."""
    changed = (name for name in wanted.keys() & current.keys() if wanted[name] != current[name])
    return Plan(
        start=tuple(sorted(wanted.keys() - current.keys())),
        stop=tuple(sorted(current.keys() - wanted.keys())),
        restart=tuple(sorted(changed)),
    )


def read_dir(directory: str) -> tuple[dict[str, ServiceSpec], dict[str, str]]:
    """The valid services of ``directory`` by name, and the error of each invalid file.

    Reads ``*.json`` files (other names are ignored; no directory: no service); OSError
    if the directory cannot be listed.
    """
    specs, errors = {}, {}
    try:
        entries = sorted(os.listdir(directory))
    except FileNotFoundError:
        return {}, {}
    for entry in (e for e in entries if e.endswith(".json")):
        name = entry.removesuffix(".json")
        try:
            specs[name] = load_spec(name, os.path.join(directory, entry))
        except (OSError, ValueError) as exc:
            errors[name] = str(exc)
    return specs, errors


def load_spec(name: str, path: str) -> ServiceSpec:
    """Parse a service file and check that its program is executable (reads the file)."""
    with open(path, encoding="utf-8") as source:
        spec = parse_spec(name, source.read(MAX_FILE))
    program = spec.argv[0]
    if not (os.path.isfile(program) and os.access(program, os.X_OK)):
        raise ValueError(f"{program} is not an executable file")
    return spec


def describe_exit(code: int) -> str:
    """``exited with 1`` or ``killed by SIGKILL``, from a waitstatus_to_exitcode value."""
    if code >= 0:
        return f"exited with {code}"
    with contextlib.suppress(ValueError):
        return f"killed by {signal.Signals(-code).name}"
    return f"killed by signal {-code}"


@dataclass
class Service:
    """A service init runs; ``wanted`` is the spec to run after a stop (None: removed)."""

    spec: ServiceSpec
    wanted: ServiceSpec | None
    state: State = State.RESTARTING
    pid: int | None = None
    restarts: int = 0
    since: float | None = None  # wall clock of the last start
    started: float = 0.0  # monotonic clock of the last start
    delay: float = 0.0  # the delay that preceded the last start
    due: float | None = None  # monotonic: restart (restarting) or SIGKILL (stopping)

    def status(self) -> dict[str, Any]:
        """This service's entry in the status file."""
        since = None if self.since is None else round(self.since, 3)
        return {
            "pid": self.pid,
            "state": str(self.state),
            "restarts": self.restarts,
            "since": since,
        }


class ServiceTable:
    """The running services of an instance, driven by init's loop (spawns and signals).

    Init calls :meth:`boot` once, :meth:`reload` on SIGHUP, :meth:`exited` for each
    reaped child and :meth:`tick` when :meth:`next_due` has come.
    """

    def __init__(
        self,
        spawn: Spawn,
        log: Callable[[str], None],
        directory: str = SERVICES_DIR,
        status_file: str = STATUS_FILE,
        stop_timeout: float = STOP_TIMEOUT,
    ) -> None:
        self.spawn, self.log = spawn, log
        self.directory, self.status_file, self.stop_timeout = directory, status_file, stop_timeout
        self.services: dict[str, Service] = {}
        self.invalid: dict[str, str] = {}

    def boot(self) -> None:
        """Create the services directory (0755) if missing, start every valid service."""
        try:
            if not os.path.isdir(self.directory):
                os.makedirs(self.directory, 0o755, exist_ok=True)
                os.chmod(self.directory, 0o755)  # noqa: S103 - the login user may list services
        except OSError as exc:
            self.log(f"WARNING: cannot create {self.directory}: {exc}")
        self.reload()

    def reload(self) -> None:
        """Re-read the directory: start new services, stop removed ones, restart changed ones.

        A directory that cannot be listed (other than a missing one) changes nothing.
        """
        try:
            wanted, self.invalid = read_dir(self.directory)
        except OSError as exc:
            self.log(f"WARNING: cannot read {self.directory}: {exc}; services unchanged")
            self.write_status()
            return
        for name, error in sorted(self.invalid.items()):
            self.log(f"service {name}: invalid {name}.json, skipped: {error}")
        current = {n: s.wanted for n, s in self.services.items() if s.wanted is not None}
        steps = plan(wanted, current)
        for name in steps.stop:
            self._remove(name)
        for name in steps.restart:
            self._replace(name, wanted[name])
        for name in steps.start:
            self._add(wanted[name])
        self.write_status()

    def exited(self, pid: int, code: int) -> bool:
        """Handle a reaped child; False if it was no service's main pid.

        Kills what is left of the service's process group, then restarts it later, or
        finishes its stop (and starts its new version, if its file changed).
        """
        svc = next((s for s in self.services.values() if s.pid == pid), None)
        if svc is None:
            return False
        _kill_group(pid, signal.SIGKILL)
        svc.pid = None
        if svc.state is State.STOPPING:
            self._stopped(svc, code)
        else:
            self._schedule(svc, f"{describe_exit(code)};", time.monotonic() - svc.started)
        self.write_status()
        return True

    def tick(self, now: float) -> None:
        """Restart the services whose delay is over; SIGKILL the stops past their deadline."""
        for svc in list(self.services.values()):
            if svc.due is None or svc.due > now:
                continue
            svc.due = None
            if svc.state is State.RESTARTING:
                svc.restarts += 1
                self._start(svc)
            elif svc.state is State.STOPPING and svc.pid is not None:
                name, wait = svc.spec.name, self.stop_timeout
                self.log(f"service {name} not stopped after {wait:g} s: SIGKILL to its group")
                _kill_group(svc.pid, signal.SIGKILL)

    def next_due(self) -> float | None:
        """The monotonic time :meth:`tick` has work, None if no timer runs."""
        return min((s.due for s in self.services.values() if s.due is not None), default=None)

    def write_status(self) -> None:
        """Rewrite the status file atomically (temp file + rename, mode 0644)."""
        failed = {"pid": None, "state": str(State.FAILED), "restarts": 0, "since": None}
        entries = {name: {**failed, "error": err} for name, err in self.invalid.items()}
        entries |= {name: svc.status() for name, svc in self.services.items()}
        text = json.dumps(entries, indent=2, sort_keys=True) + "\n"
        temp = f"{self.status_file}.tmp"
        try:
            os.makedirs(os.path.dirname(self.status_file), 0o755, exist_ok=True)
            fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o644)
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                os.fchmod(fd, 0o644)
                out.write(text)
            os.replace(temp, self.status_file)
        except OSError as exc:
            self.log(f"WARNING: cannot write {self.status_file}: {exc}")

    # --- steps -------------------------------------------------------------------------

    def _add(self, spec: ServiceSpec) -> None:
        svc = self.services.get(spec.name)
        if svc is not None:  # still stopping: its new version starts once it is gone
            svc.wanted = spec
            return
        svc = self.services[spec.name] = Service(spec, spec)
        self._start(svc)

    def _remove(self, name: str) -> None:
        svc = self.services[name]
        svc.wanted = None
        if svc.pid is None:
            del self.services[name]
            self.log(f"service {name} removed")
        elif svc.state is not State.STOPPING:
            self._terminate(svc, svc.pid, "removed")

    def _replace(self, name: str, spec: ServiceSpec) -> None:
        svc = self.services[name]
        svc.wanted = spec
        if svc.pid is None:
            self.services[name] = Service(spec, spec)
            self._start(self.services[name])
        elif svc.state is not State.STOPPING:
            self._terminate(svc, svc.pid, "changed")

    def _terminate(self, svc: Service, pid: int, why: str) -> None:
        self.log(f"service {svc.spec.name} {why}: stopping (SIGTERM to pid {pid})")
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
        svc.state, svc.due = State.STOPPING, time.monotonic() + self.stop_timeout

    def _stopped(self, svc: Service, code: int) -> None:
        name = svc.spec.name
        self.log(f"service {name} stopped ({describe_exit(code)})")
        if svc.wanted is None:
            del self.services[name]
        else:
            self.services[name] = Service(svc.wanted, svc.wanted)
            self._start(self.services[name])

    def _schedule(self, svc: Service, what: str, ran_for: float) -> None:
        svc.delay = restart_delay(svc.delay, ran_for)
        svc.state, svc.due = State.RESTARTING, time.monotonic() + svc.delay
        self.log(f"service {svc.spec.name} {what} restarting in {svc.delay:g} s")

    def _start(self, svc: Service) -> None:
        try:
            pid = self._spawn(svc.spec)
        except (OSError, ValueError) as exc:
            self._schedule(svc, f"could not start ({exc});", 0.0)
            self.write_status()
            return
        svc.pid, svc.state, svc.due = pid, State.RUNNING, None
        svc.started, svc.since = time.monotonic(), time.time()
        self.log(f"service {svc.spec.name} started (pid {pid})")
        self.write_status()

    def _spawn(self, spec: ServiceSpec) -> int:
        """Open the log (O_APPEND, 0640, directory made) and spawn the service into it."""
        os.makedirs(os.path.dirname(spec.log), 0o755, exist_ok=True)
        flags = os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC
        fd = os.open(spec.log, flags, 0o640)
        try:
            return self.spawn(spec.command(), dict(spec.env), fd)
        finally:
            os.close(fd)


def _kill_group(pgid: int, signo: int) -> None:
    """Signal a service's process group (its main pid leads it: setsid)."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signo)
