"""Where a cloud keeps its state, and the few settings it reads from there.

Pure apart from reading environment variables and the config file; the state
directory is created by ``pocketcloud init`` (see ``pocketcloud.services.cloud``).
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, replace
from pathlib import Path

DEFAULT_HOME = Path("/var/lib/pocketcloud")
DEFAULT_REGION = "us-east-1"
DEFAULT_PORT = 4747


def state_dir(explicit: str | Path | None = None) -> Path:
    """The state directory: ``--state-dir``, else ``$POCKETCLOUD_HOME``, else the default."""
    if explicit:
        return Path(explicit).resolve()
    env = os.environ.get("POCKETCLOUD_HOME")
    return Path(env).resolve() if env else DEFAULT_HOME


@dataclass(frozen=True)
class Settings:
    """The cloud's settings, stored as ``config.json`` in its state directory."""

    host: str = "127.0.0.1"
    port: int = DEFAULT_PORT
    #: where the instance metadata service listens (instances' 169.254.169.254:80 leads here)
    imds_port: int = DEFAULT_PORT + 1
    region: str = DEFAULT_REGION
    vpc_cidr: str = "172.31.0.0/16"
    prefix: str = "pc"
    #: "normal": every acknowledged change survives a crash or kill of the server (WAL);
    #: "full": it also survives a crash of the machine (an fsync per change, ~20% slower)
    durability: str = "normal"
    #: outbound NAT: instances reach what the host reaches (False: only the host and
    #: each other)
    nat: bool = True
    #: how long terminated instances stay visible, as on EC2 (about an hour there)
    terminated_ttl_seconds: int = 3600
    #: where Elastic IPs come from: RFC 2544 benchmark space, never routed off the machine
    #: (the host reaches an associated address; the rest of the pool is unreachable)
    eip_pool: str = "198.18.0.0/24"

    @property
    def endpoint(self) -> str:
        """The URL clients use to reach the API."""
        return f"http://{self.host}:{self.port}"

    def with_overrides(self, **changes: object) -> Settings:
        """A copy with the given non-None fields replaced."""
        return replace(self, **{k: v for k, v in changes.items() if v is not None})  # type: ignore[arg-type]


@dataclass(frozen=True)
class Paths:
    """Every file a cloud owns lives under its state directory."""

    root: Path

    @property
    def database(self) -> Path:
        return self.root / "pocketcloud.db"

    @property
    def config(self) -> Path:
        return self.root / "config.json"

    @property
    def pidfile(self) -> Path:
        return self.root / "pocketcloud.pid"

    @property
    def logfile(self) -> Path:
        return self.root / "pocketcloud.log"

    @property
    def instances(self) -> Path:
        return self.root / "instances"

    @property
    def keys(self) -> Path:
        return self.root / "keys"


def load_settings(paths: Paths) -> Settings:
    """Read ``config.json``; defaults for anything missing (reads a file)."""
    try:
        raw = json.loads(paths.config.read_text())
    except FileNotFoundError:
        return Settings()
    known = {k: v for k, v in raw.items() if k in Settings.__dataclass_fields__}
    return Settings(**known)


def save_settings(paths: Paths, settings: Settings) -> None:
    """Write ``config.json`` (writes a file)."""
    paths.config.write_text(json.dumps(asdict(settings), indent=2) + "\n")
