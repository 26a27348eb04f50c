"""pocketcloud-init as a service supervisor, in a real instance, driven over OpenSSH the way
the hosting tool drives it: a JSON file in /etc/pocketcloud/services plus ``sudo kill -HUP
1`` starts a service, a killed one comes back, a removed one gets SIGTERM, a changed one
restarts, an invalid one is logged on the console, and they all return after
RebootInstances and after StopInstances/StartInstances. The status is read from
/run/pocketcloud/services.json and /proc inside the instance.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.plugin.instances import Machine, launch, wait_for_banner

pytestmark = [pytest.mark.live, pytest.mark.needs_root]

SERVICES = "/etc/pocketcloud/services"
STATUS = "/run/pocketcloud/services.json"
PYTHON = "/usr/bin/python3"
WEB = {"argv": [PYTHON, "-m", "http.server", "8000", "--bind", "127.0.0.1"], "cwd": "/srv/www"}
#: writes a marker when it gets SIGTERM, then exits
ON_TERM = (
    "import signal, sys, time\n"
    "def bye(*_):\n"
    "    open('/srv/got-sigterm', 'w').write('SIGTERM')\n"
    "    sys.exit(0)\n"
    "signal.signal(signal.SIGTERM, bye)\n"
    "print('waiting', flush=True)\n"
    "time.sleep(3600)\n"
)


def enable(m: Machine, name: str, spec: dict[str, Any]) -> None:
    """Write the service file and HUP init, as the hosting tool does."""
    m.ssh(f"sudo tee {SERVICES}/{name}.json >/dev/null && sudo kill -HUP 1", stdin=json.dumps(spec))


def status(m: Machine) -> dict[str, Any]:
    """init's status file."""
    return dict(json.loads(m.ssh(f"cat {STATUS}")))


def wait_for(what: str, probe: Callable[[], Any], timeout: float = 10) -> Any:
    """Poll ``probe`` until it returns something true; that value."""
    deadline = time.monotonic() + timeout
    while not (value := probe()):
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)
    return value


def serving(m: Machine, port: int) -> str:
    """What 127.0.0.1:<port> answers inside the instance ('' if nothing)."""
    return m.ssh(f"curl -s --max-time 2 127.0.0.1:{port}/", check=False)


def running_pid(m: Machine, name: str) -> int | None:
    """The service's pid when the status file says it runs, else None."""
    entry = status(m).get(name, {})
    return entry["pid"] if entry.get("state") == "running" else None


def new_pid(m: Machine, name: str, old: int) -> int | None:
    """The service's pid once it runs with another pid than ``old``, else None."""
    pid = running_pid(m, name)
    return None if pid == old else pid


def log_of(m: Machine, name: str) -> str:
    """The service's log file (sudo: it is 0640 root)."""
    return m.ssh(f"sudo cat /var/log/pocketcloud/{name}.log", check=False)


def ensure_web(m: Machine) -> int:
    """The web service enabled and answering; its pid."""
    enable(m, "web", WEB)
    wait_for("web to serve", lambda: "hello-from-www" in serving(m, 8000))
    return int(wait_for("web's pid", lambda: running_pid(m, "web")))


def console(ec2: Any, m: Machine) -> str:
    """The instance's console output through the API."""
    return str(ec2.get_console_output(InstanceId=m.instance_id)["Output"])


@pytest.fixture(scope="module")
def booted(ec2: Any, image_id: str, key: tuple[str, Path]) -> tuple[Machine, str]:
    """An instance with a page to serve in /srv/www, and its status file at first boot."""
    m = launch(ec2, image_id, key)
    first = m.ssh(f"cat {STATUS}; stat -c '%a %U' {STATUS} {SERVICES}")
    m.ssh("sudo mkdir -p /srv/www && echo hello-from-www | sudo tee /srv/www/index.html")
    return m, first


@pytest.fixture(scope="module")
def machine(booted: tuple[Machine, str]) -> Machine:
    """The module's instance."""
    return booted[0]


class TestServices:
    def test_boot_writes_empty_status(self, booted: tuple[Machine, str]) -> None:
        """At boot init writes {} to the status file (0644) and creates the services
        directory (0755): the mark of a host supervised by pocketcloud-init."""
        text, modes = booted[1].rsplit("}", 1)
        assert json.loads(text + "}") == {}
        assert modes.split() == ["644", "root", "755", "root"]

    def test_file_and_hup_start_a_service(self, ec2: Any, machine: Machine) -> None:
        """A file written with sudo tee plus kill -HUP 1 starts the program in its cwd; it
        serves, the status file has its pid, and its log file receives its output."""
        pid = ensure_web(machine)
        assert "http.server" in machine.ssh(f"tr '\\0' ' ' < /proc/{pid}/cmdline")
        assert machine.ssh(f"sudo readlink /proc/{pid}/cwd").strip() == "/srv/www"
        wait_for("the request in the log", lambda: "GET / " in log_of(machine, "web"))
        assert machine.ssh("sudo stat -c %a /var/log/pocketcloud/web.log").strip() == "640"
        assert f"service web started (pid {pid})" in console(ec2, machine)

    def test_killed_service_comes_back(self, ec2: Any, machine: Machine) -> None:
        """kill -9 of the main pid: a new pid serves again within 3 s, restarts + 1."""
        pid = ensure_web(machine)
        before = status(machine)["web"]["restarts"]
        machine.ssh(f"sudo kill -9 {pid}")
        killed = time.monotonic()
        wait_for("a new pid", lambda: new_pid(machine, "web", pid), 3)
        wait_for("web to serve again", lambda: "hello-from-www" in serving(machine, 8000), 3)
        assert time.monotonic() - killed < 3
        assert status(machine)["web"]["restarts"] == before + 1
        assert "service web killed by SIGKILL; restarting in 1 s" in console(ec2, machine)

    def test_changed_file_restarts_with_new_argv(self, machine: Machine) -> None:
        """A changed file plus HUP restarts that service with the new argv; a service
        whose file did not change keeps its pid."""
        web = ensure_web(machine)
        alt = {**WEB, "argv": [PYTHON, "-m", "http.server", "8001", "--bind", "127.0.0.1"]}
        enable(machine, "alt", alt)
        wait_for("alt to serve", lambda: "hello" in serving(machine, 8001))
        old = running_pid(machine, "alt")
        assert old
        alt["argv"] = [PYTHON, "-m", "http.server", "8002", "--bind", "127.0.0.1"]
        enable(machine, "alt", alt)
        wait_for("alt on its new port", lambda: "hello" in serving(machine, 8002))
        assert serving(machine, 8001) == ""
        assert new_pid(machine, "alt", old)
        assert running_pid(machine, "web") == web

    def test_removed_file_stops_with_sigterm(self, machine: Machine) -> None:
        """Removing the file plus HUP sends SIGTERM to the service, which is then gone from
        the status file and not started again."""
        machine.ssh("sudo tee /srv/on-term.py >/dev/null", stdin=ON_TERM)
        enable(machine, "term", {"argv": [PYTHON, "/srv/on-term.py"]})
        pid = wait_for("term to run", lambda: running_pid(machine, "term"))
        wait_for("its handler", lambda: "waiting" in log_of(machine, "term"))
        machine.ssh(f"sudo rm {SERVICES}/term.json && sudo kill -HUP 1")
        wait_for("term to leave the status", lambda: "term" not in status(machine))
        assert machine.ssh("cat /srv/got-sigterm") == "SIGTERM"
        time.sleep(1.5)  # longer than the restart delay
        assert "term" not in status(machine)
        assert machine.ssh(f"test -e /proc/{pid} || echo gone").strip() == "gone"
        assert "on-term.py" not in machine.ssh("ps -eo args")

    def test_invalid_files_are_logged_and_skipped(self, ec2: Any, machine: Machine) -> None:
        """Bad JSON and a relative argv[0] are logged on the console and marked failed; the
        valid file next to them starts."""
        machine.ssh(f"echo '{{oops' | sudo tee {SERVICES}/broken.json")
        machine.ssh(f'echo \'{{"argv": ["python3"]}}\' | sudo tee {SERVICES}/relative.json')
        enable(machine, "fine", {"argv": ["/usr/bin/sleep", "infinity"]})
        wait_for("fine to run", lambda: running_pid(machine, "fine"))
        found = status(machine)
        assert found["broken"]["state"] == "failed"
        assert found["relative"]["state"] == "failed"
        output = console(ec2, machine)
        assert "service broken: invalid broken.json, skipped: bad JSON" in output
        assert "service relative: invalid relative.json, skipped: argv[0] must be" in output
        machine.ssh(f"sudo rm {SERVICES}/broken.json {SERVICES}/relative.json")


class TestPersistence:
    def test_back_after_reboot(self, ec2: Any, machine: Machine) -> None:
        """RebootInstances: init starts the enabled services at boot by itself."""
        old = ensure_web(machine)
        booted = machine.ssh("cat /proc/1/stat").split()[21]
        ec2.reboot_instances(InstanceIds=[machine.instance_id])
        wait_for("a new boot", lambda: _boot_id(machine) not in ("", booted), 30)
        wait_for("web after reboot", lambda: "hello-from-www" in serving(machine, 8000))
        assert new_pid(machine, "web", old)
        assert status(machine)["web"]["restarts"] == 0

    def test_back_after_stop_start(self, ec2: Any, machine: Machine) -> None:
        """StopInstances then StartInstances: the services come back with the machine."""
        ensure_web(machine)
        ids = {"InstanceIds": [machine.instance_id]}
        fast = {"Delay": 0.5, "MaxAttempts": 120}
        ec2.stop_instances(**ids)
        ec2.get_waiter("instance_stopped").wait(**ids, WaiterConfig=fast)
        ec2.start_instances(**ids)
        ec2.get_waiter("instance_running").wait(**ids, WaiterConfig=fast)
        wait_for_banner(machine.ip)
        wait_for("web after start", lambda: "hello-from-www" in serving(machine, 8000))
        assert running_pid(machine, "web")
        assert (
            log_of(machine, "web").count("GET / ") >= 2
        )  # one request before the stop, one after the start
        assert "web.json" in machine.ssh(f"ls {SERVICES}").split()


def _boot_id(m: Machine) -> str:
    fields = m.ssh("cat /proc/1/stat", check=False, timeout=10).split()
    return fields[21] if len(fields) > 21 else ""
