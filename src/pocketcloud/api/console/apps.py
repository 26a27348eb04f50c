"""Deployed apps as the console shows them: the instances tagged ``pocketcloud:app``, the
release that answers at each one's URL, and ``explain reach``'s verdict for its port.

``apps_of`` is pure; ``release_at`` and ``reach_verdict`` are the edge (an HTTP request
to the instance, and ``pocketcloud.explain.reach.explain``, which reads the host and the
instance without changing anything).
"""

from __future__ import annotations

import http.client
import logging
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path

from pocketcloud.api.console.sections import Item, tag
from pocketcloud.deploy.provision import APP_TAG
from pocketcloud.explain.reach.report import Verdict

log = logging.getLogger("pocketcloud.api.console")

RELEASE_HEADER = "X-Pocketcloud-Release"
PORT = 80
GONE = ("shutting-down", "terminated")


@dataclass(frozen=True)
class App:
    """One deployed app and what the console found out about it."""

    name: str
    instance_id: str
    state: str
    public_ip: str | None
    release: str | None = None
    answer: str = ""  # "" until asked; else what the GET gave ("200", "no answer: …")
    verdict: Verdict | None = None
    verdict_note: str = ""  # why there is no verdict

    @property
    def url(self) -> str | None:
        return f"http://{self.public_ip}/" if self.public_ip else None


def apps_of(instances: list[Item]) -> list[App]:
    """The apps among described instances (terminated ones left out), by name."""
    found = []
    for instance in instances:
        name = tag(instance, APP_TAG)
        state = str((instance.get("State") or {}).get("Name", ""))
        if name and state not in GONE:
            public_ip = instance.get("PublicIpAddress")
            found.append(App(name, str(instance["InstanceId"]), state, public_ip))
    return sorted(found, key=lambda a: (a.name, a.instance_id))


def release_at(address: str, timeout: float = 2.0) -> tuple[str | None, str]:
    """GET http://<address>/ once: (the release that answered, what came back).

    Sends one request from this host (no redirect followed); never raises.
    """
    connection = http.client.HTTPConnection(address, PORT, timeout=timeout)
    try:
        connection.request("GET", "/", headers={"Host": address, "User-Agent": "pocketcloud"})
        response = connection.getresponse()
        response.read(65536)
        return response.getheader(RELEASE_HEADER), f"HTTP {response.status}"
    except (OSError, http.client.HTTPException) as exc:
        return None, f"no answer: {exc or type(exc).__name__}"
    finally:
        connection.close()


def reach_verdict(root: Path, instance_id: str, port: int = PORT) -> tuple[Verdict | None, str]:
    """``explain reach <instance> <port>`` from this host: (its verdict, or None and why).

    Reads the state directory, the firewall and the instance; changes nothing.
    """
    from pocketcloud.explain.reach import explain  # noqa: PLC0415 (loaded on use)

    try:
        return explain(root, instance_id, port).verdict, ""
    except Exception as exc:  # the console shows the app even when the explainer fails
        log.exception("explain reach %s %s failed", instance_id, port)
        return None, f"explain reach failed: {exc}"


def look_at(app: App, root: Path, withheld: str = "") -> App:
    """The app with its release and its port's verdict filled in (one GET, one explain);
    ``withheld``: why the viewer may not see the verdict (then it is not asked for)."""
    release, answer = release_at(app.public_ip) if app.public_ip else (None, "no public address")
    verdict, note = reach_verdict(root, app.instance_id) if not withheld else (None, withheld)
    return replace(app, release=release, answer=answer, verdict=verdict, verdict_note=note)


def look_at_all(apps: list[App], root: Path, withheld: str = "") -> list[App]:
    """``look_at`` every app, at the same time (threads; blocks until all are done)."""
    if not apps:
        return []
    with ThreadPoolExecutor(max_workers=min(8, len(apps))) as pool:
        return list(pool.map(lambda a: look_at(a, root, withheld), apps))
