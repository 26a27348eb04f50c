"""The facts ``explain <topic>`` renders: plain values, gathered by :mod:`.gather`, read
by the topics' renderers (pure; no I/O here)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from pocketcloud.explain.sockets import Socket
from pocketcloud.store.reader import GroupRecord, RuleRecord

#: the tag ``pocketcloud deploy`` puts on an app's instance (its value: the app's name)
APP_TAG = "pocketcloud:app"

#: a security group rule and a group, as the state reader returns them (no copy of their own)
Rule = RuleRecord
Group = GroupRecord


@dataclass(frozen=True)
class Instance:
    """An instance that is not terminated, and its host objects."""

    instance_id: str
    state: str
    instance_type: str
    private_ip: str
    public_ip: str | None
    key_name: str | None
    group_ids: tuple[str, ...] = ()
    tags: Mapping[str, str] = field(default_factory=dict)
    netns: str = ""
    veth: str = ""
    cgroup: str = ""
    workdir: str = ""
    login_user: str = "admin"
    init_pid: int | None = None
    #: listening TCP sockets inside (None: not read — not running, or not asked for)
    sockets: tuple[Socket, ...] | None = None


@dataclass(frozen=True)
class KeyPair:
    """A key pair the cloud holds the public half of."""

    name: str
    key_pair_id: str
    key_type: str
    fingerprint: str
    created: str
    pem: str | None = None  # ~/.ssh/<name>.pem when it exists on this machine


@dataclass(frozen=True)
class User:
    """An IAM user: groups, policies and access key ids (never secrets)."""

    name: str
    arn: str
    groups: tuple[str, ...] = ()
    attached: tuple[str, ...] = ()  # managed policy ARNs
    inline: tuple[str, ...] = ()  # inline policy names
    access_keys: tuple[tuple[str, str], ...] = ()  # (access key id, status)


@dataclass(frozen=True)
class Role:
    """An IAM role: who its trust policy lets assume it, its policies and the resources
    they allow (no key of its own: its sessions' credentials are temporary)."""

    name: str
    arn: str
    trusted: tuple[str, ...] = ()  # principals allowed: services, ARNs, account ids, "*"
    attached: tuple[str, ...] = ()  # managed policy ARNs
    inline: tuple[str, ...] = ()  # inline policy names
    resources: tuple[str, ...] = ()  # what its policies' Allow statements name
    description: str = ""


@dataclass(frozen=True)
class InstanceProfile:
    """An instance profile: the holder that gives an instance one role."""

    name: str
    arn: str
    role: str | None = None


@dataclass(frozen=True)
class Association:
    """An instance's live instance profile association, and the role its metadata
    service hands out credentials for (the one the profile holds now)."""

    instance_id: str
    association_id: str
    profile_arn: str
    profile: str | None = None  # None: the profile is gone
    role: str | None = None  # None: the profile holds no role (or is gone)


@dataclass(frozen=True)
class Profile:
    """The AWS CLI profile in use, the user its access key belongs to, and what that user
    may do (sample action → allow / explicit_deny / implicit_deny)."""

    name: str
    access_key_id: str | None
    user: str | None
    decisions: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Release:
    """One release of a deployed app."""

    release_id: str
    created: str
    mode: str
    current: bool


@dataclass(frozen=True)
class App:
    """A deployed app: the instance tagged with it, its releases, its gunicorn sockets."""

    name: str
    instance_id: str
    releases: tuple[Release, ...] = ()
    unix_sockets: tuple[tuple[str, str], ...] = ()  # (path, process)


@dataclass(frozen=True)
class CloudSnapshot:
    """The cloud itself, as read now: whether it is there and running, and its own ports
    (not :class:`pocketcloud.services.context.Cloud`, the running server's context)."""

    root: str
    status: str  # "missing", "down", "up"
    pid: int | None = None
    endpoint: str = ""
    api_port: int = 0
    imds_port: int = 0
    prefix: str = ""
    region: str = ""
    account: str = ""
    table: str = ""
    sockets: tuple[Socket, ...] = ()  # this host's listening sockets of the cloud


@dataclass(frozen=True)
class TopicFacts:
    """Everything a topic may show."""

    cloud: CloudSnapshot
    instances: tuple[Instance, ...] = ()
    groups: tuple[Group, ...] = ()
    keys: tuple[KeyPair, ...] = ()
    users: tuple[User, ...] = ()
    profile: Profile | None = None
    apps: tuple[App, ...] = ()
    chains: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    roles: tuple[Role, ...] = ()
    instance_profiles: tuple[InstanceProfile, ...] = ()
    associations: tuple[Association, ...] = ()


@dataclass(frozen=True)
class Needs:
    """Which of the slower facts a topic wants (each costs host commands)."""

    sockets: bool = False
    chains: bool = False
    apps: bool = False
    iam: bool = False
    roles: bool = False
