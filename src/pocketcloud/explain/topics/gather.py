"""The live facts ``explain <topic>`` is built from, read without changing anything.

Sources, all read-only: the state directory's SQLite database (through
:class:`~pocketcloud.store.reader.StateReader`, ``mode=ro``), ``config.json``, the
instances' work directories (``init.json``, ``pid``, the overlay's upper layer where
deployed apps' releases live), ``ss -Hltnp`` / ``ss -Hlxp`` inside each running
instance's network namespace and on this host, the cloud's ``nft`` table, and the AWS
CLI's credentials file (which access key the current profile signs with — its secret is
never read out). :func:`gather` runs ``ip netns exec``, ``ss`` and ``nft list``; reading
another netns needs root. The listings' parsers are pure (:mod:`pocketcloud.explain.sockets`,
:mod:`.listings`); IAM's readers live in :mod:`.gather_iam`.
"""

from __future__ import annotations

import contextlib
import json
import os
from pathlib import Path

from pocketcloud.config import Paths, load_settings
from pocketcloud.deploy.apps import apps_dir
from pocketcloud.explain.sockets import Socket, parse_ss
from pocketcloud.explain.topics import gather_iam
from pocketcloud.explain.topics.facts import (
    APP_TAG,
    App,
    Association,
    CloudSnapshot,
    Group,
    Instance,
    InstanceProfile,
    KeyPair,
    Needs,
    Profile,
    Release,
    Role,
    TopicFacts,
    User,
)
from pocketcloud.explain.topics.listings import parse_chains, parse_unix
from pocketcloud.host import daemon, firewall
from pocketcloud.host.run import HostError, run
from pocketcloud.store.reader import InstanceRecord, StateReader


def gather(root: Path, needs: Needs) -> TopicFacts:
    """Every fact about the cloud in ``root`` that ``needs`` asks for (reads only; runs ss,
    nft and ip netns exec as ``needs`` says; needs root for other namespaces).
    :class:`~pocketcloud.store.reader.ReadError` if the state cannot be read."""
    paths = Paths(root)
    if not paths.database.exists():
        return TopicFacts(CloudSnapshot(str(root), "missing"))
    with StateReader(paths.database) as db:
        return _gather(paths, db, needs)


def _gather(paths: Paths, db: StateReader, needs: Needs) -> TopicFacts:
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
        users, profile = tuple(gather_iam.users(db, cloud.account)), gather_iam.profile(db)
    apps = tuple(_apps(paths, instances, up)) if needs.apps else ()
    roles: tuple[Role, ...] = ()
    profiles: tuple[InstanceProfile, ...] = ()
    associations: tuple[Association, ...] = ()
    if needs.roles:
        roles = tuple(gather_iam.roles(db, cloud.account))
        profiles = tuple(gather_iam.instance_profiles(db, cloud.account))
        associations = tuple(gather_iam.associations(db, profiles))
    return TopicFacts(
        cloud,
        instances,
        tuple(_groups(db)),
        tuple(_keys(db)),
        users,
        profile,
        apps,
        chains,
        roles,
        profiles,
        associations,
    )


def _cloud(paths: Paths, db: StateReader, sockets: bool) -> CloudSnapshot:
    settings = load_settings(paths)
    pid = daemon.read_pid(paths.pidfile)
    account = db.account_id()
    host: tuple[Socket, ...] = ()
    if pid is not None and sockets:
        wanted = {settings.port, settings.imds_port}
        host = tuple(s for s in parse_ss(_ss(None, "-Hltnp")) if s.port in wanted)
    return CloudSnapshot(
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


def _instances(paths: Paths, db: StateReader, prefix: str, sockets: bool) -> list[Instance]:
    return [_instance(paths, stored, prefix, sockets) for stored in db.instances()]


def _instance(paths: Paths, stored: InstanceRecord, prefix: str, sockets: bool) -> Instance:
    """A stored instance with its host objects (and, if asked and running, its sockets)."""
    iid, state = stored.instance_id, stored.state
    public = stored.elastic_ip or (
        stored.private_ip if stored.map_public_ip and state in ("pending", "running") else None
    )
    workdir = paths.instances / iid
    netns = f"{prefix}-{iid[-8:]}"
    running = state == "running"
    return Instance(
        instance_id=iid,
        state=state,
        instance_type=stored.instance_type,
        private_ip=stored.private_ip,
        public_ip=public,
        key_name=stored.key_name,
        group_ids=stored.group_ids,
        tags=dict(stored.tags),
        netns=netns,
        veth=firewall_veth(prefix, iid),
        cgroup=f"pocketcloud/{prefix}/{iid}",
        workdir=str(workdir),
        login_user=_login_user(workdir),
        init_pid=_init_pid(workdir) if running else None,
        sockets=parse_ss(_ss(netns, "-Hltnp")) if sockets and running else None,
    )


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


def _groups(db: StateReader) -> list[Group]:
    return list(db.security_groups())


def _keys(db: StateReader) -> list[KeyPair]:
    recorded = _recorded_keys()
    out = []
    for k in db.key_pairs():
        pem = Path.home() / ".ssh" / f"{k.name}.pem"
        found = str(pem) if pem.exists() else recorded.get(k.name)
        out.append(KeyPair(k.name, k.key_pair_id, k.key_type, k.fingerprint, k.created, found))
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


def _apps(paths: Paths, instances: tuple[Instance, ...], up: bool) -> list[App]:
    """The deployed apps: each instance tagged with one, by app name."""
    tagged = sorted(
        ((i.tags[APP_TAG], i) for i in instances if APP_TAG in i.tags), key=lambda t: t[0]
    )
    return [_app(paths, name, inst, up) for name, inst in tagged]


def _app(paths: Paths, name: str, inst: Instance, up: bool) -> App:
    base = paths.instances / inst.instance_id / "upper" / "srv" / "app" / name
    unix: tuple[tuple[str, str], ...] = ()
    if up and inst.state == "running":
        unix = tuple(
            s for s in parse_unix(_ss(inst.netns, "-Hlxp")) if s[0].startswith(f"/srv/app/{name}/")
        )
    return App(name, inst.instance_id, tuple(_releases(base)), unix)


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
