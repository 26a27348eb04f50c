"""The live facts ``explain <topic>`` is built from, read without changing anything.

Sources, all read-only: the state directory's SQLite database (opened ``mode=ro``, never
through :class:`pocketcloud.store.Store`, which migrates and writes), ``config.json``, the
instances' work directories (``init.json``, ``pid``, the overlay's upper layer where
deployed apps' releases live), ``ss -Hltnp`` / ``ss -Hlxp`` inside each running
instance's network namespace and on this host, the cloud's ``nft`` table, and the AWS
CLI's credentials file (which access key the current profile signs with — its secret is
never read out). :func:`gather` runs ``ip netns exec``, ``ss`` and ``nft list``; reading
another netns needs root. The listings' parsers are pure (:mod:`.parse`); IAM's readers
live in :mod:`.iam`.
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
from pathlib import Path

from pocketcloud.config import Paths, load_settings
from pocketcloud.deploy.apps import apps_dir
from pocketcloud.explain.live import iam
from pocketcloud.explain.live.parse import parse_chains, parse_ss, parse_unix
from pocketcloud.explain.live.rows import scalar
from pocketcloud.explain.topics_facts import (
    App,
    Cloud,
    Facts,
    Group,
    Instance,
    KeyPair,
    Needs,
    Profile,
    Release,
    Rule,
    Socket,
    User,
)
from pocketcloud.host import daemon, firewall
from pocketcloud.host.run import HostError, run

APP_TAG = "pocketcloud:app"


class LiveError(RuntimeError):
    """The cloud's state cannot be read (not root, a damaged database)."""


def gather(root: Path, needs: Needs) -> Facts:
    """Every fact about the cloud in ``root`` that ``needs`` asks for (reads only; runs ss,
    nft and ip netns exec as ``needs`` says; needs root for other namespaces)."""
    paths = Paths(root)
    if not paths.database.exists():
        return Facts(Cloud(str(root), "missing"))
    try:
        db = sqlite3.connect(f"file:{paths.database}?mode=ro", uri=True, timeout=10)
    except sqlite3.Error as exc:
        raise LiveError(f"cannot read {paths.database}: {exc} (as root it can)") from exc
    db.row_factory = sqlite3.Row
    try:
        return _gather(paths, db, needs)
    except sqlite3.Error as exc:
        raise LiveError(f"cannot read {paths.database}: {exc}") from exc
    finally:
        db.close()


def _gather(paths: Paths, db: sqlite3.Connection, needs: Needs) -> Facts:
    cloud = _cloud(paths, db, needs.sockets)
    up = cloud.status == "up"
    instances = tuple(_instances(paths, db, cloud.prefix, needs.sockets and up))
    chains: dict[str, tuple[str, ...]] = {}
    if needs.chains and up:
        with contextlib.suppress(HostError):  # no nft here: no chains to show
            chains = parse_chains(firewall.listing(cloud.prefix))
    users: tuple[User, ...] = ()
    profile: Profile | None = None
    if needs.iam:
        users, profile = tuple(iam.users(db, cloud.account)), iam.profile(db)
    apps = tuple(_apps(paths, db, instances, up)) if needs.apps else ()
    return Facts(
        cloud, instances, tuple(_groups(db)), tuple(_keys(db)), users, profile, apps, chains
    )


def _cloud(paths: Paths, db: sqlite3.Connection, sockets: bool) -> Cloud:
    settings = load_settings(paths)
    pid = daemon.read_pid(paths.pidfile)
    account = scalar(db, "SELECT value FROM meta WHERE key = 'account_id'") or ""
    host: tuple[Socket, ...] = ()
    if pid is not None and sockets:
        wanted = {settings.port, settings.imds_port}
        host = tuple(s for s in parse_ss(_ss(None, "-Hltnp")) if s.port in wanted)
    return Cloud(
        str(paths.root),
        "up" if pid is not None else "down",
        pid,
        settings.endpoint,
        settings.port,
        settings.imds_port,
        settings.prefix,
        settings.region,
        account,
        firewall.table(settings.prefix),
        host,
    )


def _ss(netns: str | None, flags: str) -> str:
    """``ss`` in a namespace (or on this host); "" if it cannot be read."""
    cmd = ["ss", flags] if netns is None else ["ip", "netns", "exec", netns, "ss", flags]
    with contextlib.suppress(HostError):
        return run(cmd, check=True, timeout=10).stdout.decode("utf-8", "replace")
    return ""


def _tags(db: sqlite3.Connection) -> dict[str, dict[str, str]]:
    out: dict[str, dict[str, str]] = {}
    for row in db.execute("SELECT resource_id, key, value FROM tags ORDER BY key"):
        out.setdefault(row["resource_id"], {})[row["key"]] = row["value"]
    return out


_INSTANCES = (
    "SELECT i.*, s.map_public_ip, a.public_ip AS eip FROM instances i "
    "JOIN subnets s ON s.subnet_id = i.subnet_id "
    "LEFT JOIN addresses a ON a.instance_id = i.instance_id AND a.association_id IS NOT NULL "
    "WHERE i.state != 'terminated' ORDER BY i.launch_time, i.instance_id"
)


def _instances(paths: Paths, db: sqlite3.Connection, prefix: str, sockets: bool) -> list[Instance]:
    tags = _tags(db)
    groups: dict[str, list[str]] = {}
    for row in db.execute("SELECT instance_id, group_id FROM instance_groups ORDER BY position"):
        groups.setdefault(row["instance_id"], []).append(row["group_id"])
    out = []
    for row in db.execute(_INSTANCES):
        iid, state = row["instance_id"], row["state"]
        public = row["eip"] or (
            row["private_ip"] if row["map_public_ip"] and state in ("pending", "running") else None
        )
        workdir = paths.instances / iid
        netns = f"{prefix}-{iid[-8:]}"
        running = state == "running"
        out.append(
            Instance(
                instance_id=iid,
                state=state,
                instance_type=row["instance_type"],
                private_ip=row["private_ip"],
                public_ip=public,
                key_name=row["key_name"],
                group_ids=tuple(groups.get(iid, ())),
                tags=tags.get(iid, {}),
                netns=netns,
                veth=firewall_veth(prefix, iid),
                cgroup=f"pocketcloud/{prefix}/{iid}",
                workdir=str(workdir),
                login_user=_login_user(workdir),
                init_pid=_init_pid(workdir) if running else None,
                sockets=parse_ss(_ss(netns, "-Hltnp")) if sockets and running else None,
            )
        )
    return out


def firewall_veth(prefix: str, instance_id: str) -> str:
    """The host-side veth of an instance (as :func:`pocketcloud.host.runtime.veth_name`)."""
    return f"{prefix}{instance_id[-8:]}h"


def _login_user(workdir: Path) -> str:
    with contextlib.suppress(OSError, ValueError):
        return str(json.loads((workdir / "init.json").read_text())["login_user"])
    return "admin"


def _init_pid(workdir: Path) -> int | None:
    with contextlib.suppress(OSError, ValueError):
        return int((workdir / "pid").read_text().strip())
    return None


def _groups(db: sqlite3.Connection) -> list[Group]:
    rules: dict[str, list[Rule]] = {}
    for r in db.execute("SELECT * FROM security_group_rules ORDER BY egress, rule_id"):
        rules.setdefault(r["group_id"], []).append(
            Rule(
                r["rule_id"],
                r["group_id"],
                bool(r["egress"]),
                r["protocol"],
                r["from_port"],
                r["to_port"],
                r["cidr_ipv4"],
                r["ref_group_id"],
                r["description"],
            )
        )
    members: dict[str, list[str]] = {}
    for row in db.execute(
        "SELECT ig.group_id, ig.instance_id FROM instance_groups ig "
        "JOIN instances i ON i.instance_id = ig.instance_id WHERE i.state != 'terminated' "
        "ORDER BY i.launch_time"
    ):
        members.setdefault(row["group_id"], []).append(row["instance_id"])
    return [
        Group(
            g["group_id"],
            g["name"],
            g["description"],
            g["vpc_id"],
            tuple(rules.get(g["group_id"], ())),
            tuple(members.get(g["group_id"], ())),
        )
        for g in db.execute("SELECT * FROM security_groups ORDER BY name, group_id")
    ]


def _keys(db: sqlite3.Connection) -> list[KeyPair]:
    recorded = _recorded_keys()
    out = []
    for k in db.execute("SELECT * FROM key_pairs ORDER BY created, name"):
        pem = Path.home() / ".ssh" / f"{k['name']}.pem"
        found = str(pem) if pem.exists() else recorded.get(k["name"])
        out.append(
            KeyPair(
                k["name"], k["key_pair_id"], k["key_type"], k["fingerprint"], k["created"], found
            )
        )
    return out


def _recorded_keys() -> dict[str, str]:
    """Key pair name → private key file, from this machine's records of deployed apps
    (``pocketcloud deploy`` names the key pair after the app)."""
    found: dict[str, str] = {}
    with contextlib.suppress(OSError):
        for record in sorted(apps_dir().glob("*.json")):
            with contextlib.suppress(OSError, ValueError, AttributeError):
                key = json.loads(record.read_text()).get("key")
                if key and Path(key).exists():
                    found.setdefault(Path(key).stem, key)
    return found


def _apps(
    paths: Paths, db: sqlite3.Connection, instances: tuple[Instance, ...], up: bool
) -> list[App]:
    by_id = {i.instance_id: i for i in instances}
    out = []
    for row in db.execute(
        "SELECT resource_id, value FROM tags WHERE key = ? AND resource_id LIKE 'i-%' "
        "ORDER BY value",
        (APP_TAG,),
    ):
        inst = by_id.get(row["resource_id"])
        if inst is None:
            continue
        name = row["value"]
        base = paths.instances / inst.instance_id / "upper" / "srv" / "app" / name
        unix: tuple[tuple[str, str], ...] = ()
        if up and inst.state == "running":
            unix = tuple(
                s
                for s in parse_unix(_ss(inst.netns, "-Hlxp"))
                if s[0].startswith(f"/srv/app/{name}/")
            )
        out.append(App(name, inst.instance_id, tuple(_releases(base)), unix))
    return out


def _releases(base: Path) -> list[Release]:
    """The app's releases in the instance's upper layer, oldest first; ``current`` marked."""
    current = ""
    with contextlib.suppress(OSError):
        current = os.readlink(base / "current").rpartition("/")[2]
    out = []
    with contextlib.suppress(OSError):
        for folder in sorted((base / "releases").iterdir()):
            if not folder.is_dir():
                continue  # an overlay whiteout: a release deleted since
            meta: dict[str, object] = {}
            with contextlib.suppress(OSError, ValueError):
                meta = json.loads((folder / ".release.json").read_text())
            out.append(
                Release(
                    folder.name,
                    str(meta.get("created", "")),
                    str(meta.get("mode", "gunicorn")),
                    folder.name == current,
                )
            )
    return out
