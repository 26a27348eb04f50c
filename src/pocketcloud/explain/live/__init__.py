"""The live facts ``explain <topic>`` is built from, read without changing anything.

Sources, all read-only: the state directory's SQLite database (opened ``mode=ro``, never
through :class:`pocketcloud.store.Store`, which migrates and writes), ``config.json``, the
instances' work directories (``init.json``, ``pid``, the overlay's upper layer where
deployed apps' releases live), ``ss -Hltnp`` / ``ss -Hlxp`` inside each running
instance's network namespace and on this host, the cloud's ``nft`` table, and the AWS
CLI's credentials file (which access key the current profile signs with — its secret is
never read out). :func:`gather` runs ``ip netns exec``, ``ss`` and ``nft list``; reading
another netns needs root. The parsers (:func:`parse_ss`, :func:`parse_chains`) are pure.
"""

from __future__ import annotations

import configparser
import contextlib
import json
import os
import re
import sqlite3
from collections.abc import Iterable, Mapping
from pathlib import Path

from pocketcloud.config import Paths, load_settings
from pocketcloud.deploy.apps import apps_dir
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
from pocketcloud.iam import managed
from pocketcloud.iam.evaluate import RequestContext, evaluate
from pocketcloud.iam.policy import parse_policy

APP_TAG = "pocketcloud:app"
#: what ``explain iam`` asks on behalf of the current profile's user
SAMPLE_ACTIONS = (
    "ec2:DescribeInstances",
    "ec2:RunInstances",
    "ec2:AuthorizeSecurityGroupIngress",
    "ec2:CreateKeyPair",
    "iam:ListUsers",
    "iam:CreateUser",
)
_PROCESS = re.compile(r'\("([^"]*)",pid=(\d+)')
_CHAIN = re.compile(r"^\tchain (\S+) \{\n(.*?)^\t\}", re.MULTILINE | re.DOTALL)


class LiveError(RuntimeError):
    """The cloud's state cannot be read (not root, a damaged database)."""


def parse_ss(text: str) -> tuple[Socket, ...]:
    """Listening sockets from ``ss -Hltnp`` (or ``-Hlunp``) output (pure)."""
    found = []
    for line in text.splitlines():
        cols = line.split()
        if len(cols) < 5 or cols[0] not in ("LISTEN", "UNCONN"):
            continue
        address, _, port = cols[3].rpartition(":")
        if not port.isdigit():
            continue
        address = address.strip("[]").split("%")[0]
        procs = tuple((name, int(pid)) for name, pid in _PROCESS.findall(line))
        found.append(Socket("tcp", address, int(port), _unique(procs)))
    return tuple(found)


def parse_unix(text: str) -> tuple[tuple[str, str], ...]:
    """(path, process name) of listening unix stream sockets from ``ss -Hlxp`` (pure)."""
    found = []
    for line in text.splitlines():
        cols = line.split()
        if len(cols) >= 5 and cols[0] == "u_str" and cols[4].startswith("/"):
            procs = _PROCESS.findall(line)
            found.append((cols[4], procs[0][0] if procs else ""))
    return tuple(found)


def parse_chains(listing: str) -> dict[str, tuple[str, ...]]:
    """Each chain of an ``nft list table`` listing and its rule lines (pure)."""
    chains = {}
    for match in _CHAIN.finditer(listing):
        lines = (line.strip() for line in match.group(2).splitlines())
        chains[match.group(1)] = tuple(
            line for line in lines if line and not line.startswith("type ")
        )
    return chains


def _unique(procs: Iterable[tuple[str, int]]) -> tuple[tuple[str, int], ...]:
    """Processes sorted by pid, each once (nginx's workers share the master's socket)."""
    return tuple(sorted(set(procs), key=lambda p: p[1]))


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
        users, profile = tuple(_users(db, cloud.account)), _profile(db)
    apps = tuple(_apps(paths, db, instances, up)) if needs.apps else ()
    return Facts(
        cloud, instances, tuple(_groups(db)), tuple(_keys(db)), users, profile, apps, chains
    )


def _cloud(paths: Paths, db: sqlite3.Connection, sockets: bool) -> Cloud:
    settings = load_settings(paths)
    pid = daemon.read_pid(paths.pidfile)
    account = _scalar(db, "SELECT value FROM meta WHERE key = 'account_id'") or ""
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


def _scalar(db: sqlite3.Connection, sql: str, params: tuple[str | None, ...] = ()) -> str | None:
    row = db.execute(sql, params).fetchone()
    return None if row is None or row[0] is None else str(row[0])


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


def _users(db: sqlite3.Connection, account: str) -> list[User]:
    out = []
    for u in db.execute("SELECT * FROM iam_users ORDER BY name"):
        name = u["name"]
        groups = _column(db, "SELECT group_name FROM iam_group_members WHERE user_name = ?", name)
        attached = _column(
            db,
            "SELECT policy_arn FROM iam_attachments WHERE owner_kind = 'user' AND owner_name = ?",
            name,
        )
        inline = _column(
            db,
            "SELECT policy_name FROM iam_inline_policies WHERE owner_kind = 'user' "
            "AND owner_name = ?",
            name,
        )
        keys = tuple(
            (r["access_key_id"], r["status"])
            for r in db.execute(
                "SELECT access_key_id, status FROM iam_access_keys WHERE user_name = ?", (name,)
            )
        )
        arn = f"arn:aws:iam::{account}:user{u['path']}{name}"
        out.append(User(name, arn, groups, attached, inline, keys))
    return out


def _column(db: sqlite3.Connection, sql: str, param: str) -> tuple[str, ...]:
    return tuple(str(r[0]) for r in db.execute(sql, (param,)))


def profile_name(env: Mapping[str, str], profiles: Iterable[str]) -> str:
    """The profile a CLI command uses: ``$AWS_PROFILE``, else ``pocketcloud`` (the one
    ``pocketcloud init`` writes) if it exists, else ``default`` (pure)."""
    if env.get("AWS_PROFILE"):
        return env["AWS_PROFILE"]
    return "pocketcloud" if "pocketcloud" in set(profiles) else "default"


def _credentials_file() -> Path:
    explicit = os.environ.get("AWS_SHARED_CREDENTIALS_FILE")
    return Path(explicit).expanduser() if explicit else Path.home() / ".aws" / "credentials"


def _profile(db: sqlite3.Connection) -> Profile:
    parser = configparser.RawConfigParser()
    with contextlib.suppress(OSError, configparser.Error):
        parser.read(_credentials_file())
    name = profile_name(os.environ, parser.sections())
    key = parser.get(name, "aws_access_key_id", fallback=None)
    user = _scalar(db, "SELECT user_name FROM iam_access_keys WHERE access_key_id = ?", (key,))
    if key is None or user is None:
        return Profile(name, key, None)
    return Profile(name, key, user, _decisions(db, user))


def _decisions(db: sqlite3.Connection, user: str) -> tuple[tuple[str, str], ...]:
    """What each sample action would get for the user (its policies, evaluated as the
    server evaluates them)."""
    policies = []
    for document in _documents(db, user):
        with contextlib.suppress(Exception):  # a policy the server accepted parses; be safe
            policies.append(parse_policy(document))
    return tuple(
        (action, str(evaluate(policies, RequestContext(action, "*")))) for action in SAMPLE_ACTIONS
    )


def _documents(db: sqlite3.Connection, user: str) -> list[str]:
    """Every policy document of a user: own and its groups', inline and managed."""
    groups = _column(db, "SELECT group_name FROM iam_group_members WHERE user_name = ?", user)
    owners = [("user", user)] + [("group", g) for g in groups]
    docs: list[str] = []
    for kind, name in owners:
        args = (kind, name)
        docs += [
            str(r[0])
            for r in db.execute(
                "SELECT document FROM iam_inline_policies WHERE owner_kind = ? AND owner_name = ?",
                args,
            )
        ]
        for (arn,) in db.execute(
            "SELECT policy_arn FROM iam_attachments WHERE owner_kind = ? AND owner_name = ?", args
        ):
            docs += _managed_document(db, arn)
    return docs


def _managed_document(db: sqlite3.Connection, arn: str) -> list[str]:
    if arn in managed.AWS_MANAGED:
        return [managed.AWS_MANAGED[arn].document]
    doc = _scalar(
        db,
        "SELECT v.document FROM iam_policies p JOIN iam_policy_versions v "
        "ON v.arn = p.arn AND v.version_id = p.default_version WHERE p.arn = ?",
        (arn,),
    )
    return [] if doc is None else [doc]


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
