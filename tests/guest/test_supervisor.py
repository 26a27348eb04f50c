"""pocketcloud-init's services: the pure decisions, and the table driving real processes.

The table tests spawn real programs with init's own ``spawn`` (their own session,
``/usr/bin/env --chdir``) in a temporary directory; the test plays init's loop: it
reaps the main pid, hands it to ``exited`` and calls ``tick``. The same code runs as an
instance's PID 1 in tests/guest/test_services.py.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from pocketcloud.guest import init
from pocketcloud.guest.supervisor import (
    Plan,
    ServiceSpec,
    ServiceTable,
    describe_exit,
    parse_spec,
    plan,
    read_dir,
    restart_delay,
)
from pocketcloud.host import runtime


class TestParseSpec:
    def test_defaults(self) -> None:
        """Only argv is required: cwd "/", no extra env, log /var/log/pocketcloud/<name>.log."""
        spec = parse_spec("web", '{"argv": ["/usr/bin/python3", "-m", "http.server"]}')
        assert spec == ServiceSpec(
            "web",
            ("/usr/bin/python3", "-m", "http.server"),
            (),
            "/",
            "/var/log/pocketcloud/web.log",
        )

    def test_every_key(self) -> None:
        """env, cwd and log are taken as given; the command changes directory through env."""
        text = json.dumps(
            {"argv": ["/bin/prog", "a"], "env": {"B": "2", "A": "1"}, "cwd": "/srv", "log": "/l"}
        )
        spec = parse_spec("gunicorn-x@1", text)
        assert spec.env == (("A", "1"), ("B", "2"))
        assert (spec.cwd, spec.log) == ("/srv", "/l")
        assert spec.command() == ["/usr/bin/env", "--chdir=/srv", "/bin/prog", "a"]

    @pytest.mark.parametrize(
        ("name", "text", "message"),
        [
            ("web", "{argv", "bad JSON"),
            ("web", "[]", "not a JSON object"),
            ("web", "{}", "argv must be a non-empty list"),
            ("web", '{"argv": []}', "argv must be a non-empty list"),
            ("web", '{"argv": ["python3"]}', "absolute path"),
            ("web", '{"argv": ["/a=b/prog"]}', "without '='"),
            ("web", '{"argv": ["/bin/x"], "enviroment": {}}', "unknown keys"),
            ("web", '{"argv": ["/bin/x"], "env": {"A": 1}}', "env must be an object of strings"),
            ("web", '{"argv": ["/bin/x"], "env": {"A=B": "1"}}', "bad environment variable"),
            ("web", '{"argv": ["/bin/x"], "cwd": "srv"}', "cwd must be an absolute path"),
            ("my web", '{"argv": ["/bin/x"]}', "the name must be made of"),
            ("../x", '{"argv": ["/bin/x"]}', "the name must be made of"),
        ],
    )
    def test_invalid(self, name: str, text: str, message: str) -> None:
        """Each malformed file is refused with a message naming the fault."""
        with pytest.raises(ValueError, match=message):
            parse_spec(name, text)


class TestRestartDelay:
    def test_doubles_on_quick_failures_up_to_ten(self) -> None:
        """1 s, then doubling for each exit within 10 s of the start, capped at 10 s."""
        delays, previous = [], 0.0
        for _ in range(6):
            previous = restart_delay(previous, ran_for=0.5)
            delays.append(previous)
        assert delays == [1, 2, 4, 8, 10, 10]

    def test_resets_after_a_long_run(self) -> None:
        """A run of 10 s or more brings the delay back to 1 s."""
        assert restart_delay(8.0, ran_for=10.0) == 1.0
        assert restart_delay(8.0, ran_for=9.9) == 10.0


class TestPlan:
    def test_start_stop_restart_keep(self) -> None:
        """New names start, gone names stop, changed specs restart, equal ones are left alone."""
        a, b, c = (ServiceSpec(n, (f"/bin/{n}",)) for n in "abc")
        changed = ServiceSpec("b", ("/bin/b", "--new"))
        result = plan(
            {"a": a, "b": changed, "d": ServiceSpec("d", ("/bin/d",))}, {"a": a, "b": b, "c": c}
        )
        assert result == Plan(start=("d",), stop=("c",), restart=("b",))

    def test_exit_descriptions(self) -> None:
        """Exit codes and signals read as the console shows them."""
        assert describe_exit(3) == "exited with 3"
        assert describe_exit(-9) == "killed by SIGKILL"


class TestReadDir:
    def test_valid_invalid_and_ignored(self, tmp_path: Path) -> None:
        """*.json files are parsed; a bad one gets its error; other names are ignored."""
        (tmp_path / "ok.json").write_text('{"argv": ["/bin/sleep", "1"]}')
        (tmp_path / "bad.json").write_text("{")
        (tmp_path / "plain").write_text("not a program")
        (tmp_path / "plain").chmod(0o644)
        (tmp_path / "noexec.json").write_text(json.dumps({"argv": [str(tmp_path / "plain")]}))
        (tmp_path / "ok.json.tmp").write_text("{")
        specs, errors = read_dir(str(tmp_path))
        assert list(specs) == ["ok"]
        assert sorted(errors) == ["bad", "noexec"]
        assert "not an executable file" in errors["noexec"]

    def test_missing_directory(self, tmp_path: Path) -> None:
        """No directory means no service."""
        assert read_dir(str(tmp_path / "absent")) == ({}, {})


# --- the table, with real processes ---------------------------------------------------


class Rig:
    """A service directory, a status file and a table, as init sets them up."""

    def __init__(self, root: Path, stop_timeout: float = 30.0) -> None:
        self.root, self.lines = root, list[str]()
        self.dir = root / "services"
        self.dir.mkdir()
        self.table = ServiceTable(
            init.spawn, self.lines.append, str(self.dir), str(root / "run" / "services.json"),
            stop_timeout,
        )  # fmt: skip

    def write(self, name: str, argv: list[str], **extra: Any) -> None:
        """Enable a service whose log is in the rig's directory."""
        spec = {"argv": argv, "log": str(self.root / "logs" / f"{name}.log"), **extra}
        (self.dir / f"{name}.json").write_text(json.dumps(spec))

    def status(self) -> dict[str, Any]:
        """The status file as the hosting tool reads it."""
        return dict(json.loads((self.root / "run" / "services.json").read_text()))

    def pid(self, name: str) -> int:
        """The service's main pid from the status file."""
        return int(self.status()[name]["pid"])

    def reap(self, pid: int) -> None:
        """Wait for the main pid and hand its exit to the table, as init's loop does."""
        _, status = os.waitpid(pid, 0)
        assert self.table.exited(pid, os.waitstatus_to_exitcode(status))


def _until(check: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.02)


@pytest.fixture
def rig(tmp_path: Path) -> Iterator[Rig]:
    """A rig whose services are killed (whole process groups) and reaped afterwards."""
    made = Rig(tmp_path)
    yield made
    for svc in made.table.services.values():
        if svc.pid is not None:
            os.killpg(svc.pid, signal.SIGKILL)
            os.waitpid(svc.pid, 0)


SHELL = "/bin/sh"


class TestServiceTable:
    def test_boot_writes_status_and_starts_with_env_cwd_and_log(self, rig: Rig) -> None:
        """A valid file starts at boot in its cwd with its env; stdout and stderr go to the
        log (0640); the status file (0644) shows it running since now."""
        script = 'pwd; echo "$GREETING $HOME"; echo oops >&2; exec sleep 60'
        rig.write("hello", [SHELL, "-c", script], cwd="/tmp", env={"GREETING": "hi"})
        rig.table.boot()
        entry = rig.status()["hello"]
        assert entry["state"] == "running"
        assert entry["restarts"] == 0
        assert abs(entry["since"] - time.time()) < 5
        log = rig.root / "logs" / "hello.log"
        _until(lambda: log.exists() and "oops" in log.read_text())
        assert log.read_text() == "/tmp\nhi /root\noops\n"
        assert log.stat().st_mode & 0o777 == 0o640
        assert (rig.root / "run" / "services.json").stat().st_mode & 0o777 == 0o644
        assert os.getsid(entry["pid"]) == entry["pid"]
        assert rig.lines == [f"service hello started (pid {entry['pid']})"]

    def test_empty_directory_still_writes_status(self, rig: Rig) -> None:
        """With no service the status file is {} (it marks a supervised host)."""
        rig.table.boot()
        assert rig.status() == {}

    def test_exit_restarts_after_a_delay(self, rig: Rig) -> None:
        """A service that exits is restarting (no pid) for 1 s, then runs again."""
        rig.write("crash", [SHELL, "-c", "exec sleep 60"])
        rig.table.boot()
        first = rig.pid("crash")
        os.kill(first, signal.SIGKILL)
        rig.reap(first)
        assert rig.status()["crash"]["state"] == "restarting"
        assert rig.lines[-1] == "service crash killed by SIGKILL; restarting in 1 s"
        due = rig.table.next_due()
        assert due is not None
        assert 0.9 < due - time.monotonic() <= 1.0
        rig.table.tick(due - 0.1)
        assert rig.status()["crash"]["pid"] is None
        rig.table.tick(due)
        entry = rig.status()["crash"]
        assert entry["state"] == "running"
        assert entry["pid"] != first
        assert entry["restarts"] == 1

    def test_removed_file_stops_with_sigterm(self, rig: Rig) -> None:
        """Removing the file and reloading sends SIGTERM to the main pid; once it exits the
        service is gone from the status file, is not restarted, and what is left of its
        process group is killed."""
        marker = rig.root / "got-term"
        rig.write(
            "svc", [SHELL, "-c", f"trap 'echo term > {marker}; exit 0' TERM; sleep 60 & wait"]
        )
        rig.table.boot()
        pid = rig.pid("svc")
        _until(lambda: _children(pid) != [])  # the trap is set
        child = _children(pid)[0]
        (rig.dir / "svc.json").unlink()
        rig.table.reload()
        assert rig.status()["svc"]["state"] == "stopping"
        rig.reap(pid)
        assert marker.read_text() == "term\n"
        _until(lambda: not _alive(child))  # what was left of its process group
        assert rig.status() == {}
        assert rig.table.next_due() is None

    def test_stop_deadline_kills_the_group(self, tmp_path: Path) -> None:
        """A service ignoring SIGTERM gets SIGKILL to its whole process group at the deadline."""
        rig = Rig(tmp_path, stop_timeout=0.2)
        rig.write("stubborn", [SHELL, "-c", "trap '' TERM; sleep 60 & wait"])
        rig.table.boot()
        pid = rig.pid("stubborn")
        _until(lambda: _children(pid) != [])
        child = _children(pid)[0]
        (rig.dir / "stubborn.json").unlink()
        rig.table.reload()
        time.sleep(0.3)
        assert _alive(pid)  # SIGTERM ignored
        rig.table.tick(time.monotonic())
        rig.reap(pid)
        _until(lambda: not _alive(child))
        assert "stubborn" not in rig.status()
        assert "service stubborn stopped (killed by SIGKILL)" in rig.lines

    def test_changed_file_restarts_and_unchanged_is_left_alone(self, rig: Rig) -> None:
        """A changed file restarts its service with the new argv; an unchanged one keeps
        its pid."""
        rig.write("a", [SHELL, "-c", "exec sleep 60"])
        rig.write("b", [SHELL, "-c", "exec sleep 60"])
        rig.table.boot()
        a, b = rig.pid("a"), rig.pid("b")
        rig.write("b", [SHELL, "-c", "exec sleep 61"])
        rig.table.reload()
        rig.reap(b)
        assert rig.pid("a") == a
        new = rig.pid("b")
        assert new != b
        _until(lambda: "61" in Path(f"/proc/{new}/cmdline").read_text())

    def test_file_back_while_stopping_starts_after_the_stop(self, rig: Rig) -> None:
        """A file removed and written again before the old process exited: the service
        starts again once the stop is over."""
        rig.write("back", [SHELL, "-c", "exec sleep 60"])
        rig.table.boot()
        pid = rig.pid("back")
        (rig.dir / "back.json").unlink()
        rig.table.reload()
        rig.write("back", [SHELL, "-c", "exec sleep 60"])
        rig.table.reload()
        assert rig.status()["back"]["state"] == "stopping"
        rig.reap(pid)
        assert rig.status()["back"]["state"] == "running"
        assert rig.pid("back") != pid

    def test_invalid_file_is_logged_and_listed_failed(self, rig: Rig) -> None:
        """An invalid file is logged and shown as failed; the valid ones start."""
        (rig.dir / "broken.json").write_text("{not json")
        rig.write("good", [SHELL, "-c", "exec sleep 60"])
        rig.table.boot()
        status = rig.status()
        assert status["good"]["state"] == "running"
        assert status["broken"]["state"] == "failed"
        assert status["broken"]["pid"] is None
        assert "bad JSON" in status["broken"]["error"]
        assert rig.lines[0].startswith("service broken: invalid broken.json, skipped: bad JSON")

    def test_spawn_failure_is_retried(self, rig: Rig) -> None:
        """A log that cannot be opened is a failed start: logged, retried like an exit."""
        rig.write("nolog", [SHELL, "-c", "exec sleep 60"], log="/proc/nope/x.log")
        rig.table.boot()
        assert rig.status()["nolog"]["state"] == "restarting"
        assert "could not start" in rig.lines[-1]
        assert "restarting in 1 s" in rig.lines[-1]


def _children(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(c) for c in path.read_text().split()] if path.exists() else []


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"


class TestStaging:
    def test_staged_init_imports_its_supervisor(self, tmp_path: Path) -> None:
        """stage_guest() copies supervisor.py next to init.py; the staged init imports it from
        the boot directory with no site-packages at all."""
        runtime.stage_guest(tmp_path)
        code = "import pocketcloud.guest.init as i; print(i.supervisor.__file__)"
        found = subprocess.run(
            [sys.executable, "-S", "-B", "-c", code],
            env={"PYTHONPATH": str(tmp_path)},
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        assert found == str(tmp_path / "pocketcloud" / "guest" / "supervisor.py")
