"""The facts ``explain reach`` decides on, as gathered by its edge (pure values)."""

from __future__ import annotations

from dataclasses import dataclass

#: the host's address toward instances: the gateway address on every instance veth
HOST_ADDRESS = "169.254.1.1"


@dataclass(frozen=True)
class Instance:
    """An instance as the store has it."""

    instance_id: str
    state: str
    private_ip: str
    vpc_id: str = ""
    group_ids: tuple[str, ...] = ()
    public_ip: str | None = None  # its Elastic IP, if one is associated
    app: str | None = None  # the app deployed there (tag pocketcloud:app)


@dataclass(frozen=True)
class Source:
    """Where the connection starts: this host, an instance, or an address outside."""

    kind: str  # "host", "instance" or "cidr"
    text: str  # as the user gave it ("host" for this host)
    address: str  # the source address packets carry
    instance: Instance | None = None  # kind "instance": the instance (None: not found)


@dataclass(frozen=True)
class RuleCheck:
    """One chain of the loaded ruleset evaluated for the connection."""

    loaded: bool  # the instance's chain is in the kernel's table
    admitted: bool
    line: str | None = None  # the rule line that admits it
    group_id: str | None = None  # the stored rule behind that line
    rule_id: str | None = None
    chain: str = ""


@dataclass(frozen=True)
class RouteCheck:
    """The path from the source to the instance's address."""

    ok: bool | None
    evidence: tuple[str, ...] = ()
    summary: str = ""
    fix: str | None = None


@dataclass(frozen=True)
class Listener:
    """One listening TCP socket inside the instance."""

    address: str  # "0.0.0.0", "127.0.0.1", "*", "[::]", ...
    port: int
    process: str = ""
    pid: int | None = None
    command: str = ""  # its command line, if read


@dataclass(frozen=True)
class Answer:
    """What came back to a real request from the source."""

    kind: str  # "http", "tls", "banner", "silent", "closed", "refused", "timeout", "error"
    status: int = 0
    server: str = ""
    detail: str = ""  # the banner, the status line, a body excerpt or the error
    body: str = ""


@dataclass(frozen=True)
class ReachFacts:
    """Everything gathered about one connection."""

    target: str
    port: int
    source: Source
    instance: Instance | None
    host_header: str = ""
    route: RouteCheck | None = None
    ingress: RuleCheck | None = None
    egress: RuleCheck | None = None
    listeners: tuple[Listener, ...] | None = None  # None: could not look inside
    answer: Answer | None = None
    upstream: str | None = None  # what nginx proxies to (its site file), if read
    upstream_note: str = ""  # whether that socket exists
    profile: str = "pocketcloud"  # the AWS CLI profile the fixes name
