"""Writing a named profile into the AWS CLI's config and credentials files.

Only the named sections change; every other profile is left as it was.
Honours ``AWS_CONFIG_FILE`` and ``AWS_SHARED_CREDENTIALS_FILE`` as the CLI does.
"""

from __future__ import annotations

import configparser
import os
from pathlib import Path


def config_paths() -> tuple[Path, Path]:
    """(config file, credentials file) as botocore would find them."""
    home = Path.home() / ".aws"
    config = os.environ.get("AWS_CONFIG_FILE") or str(home / "config")
    credentials = os.environ.get("AWS_SHARED_CREDENTIALS_FILE") or str(home / "credentials")
    return Path(config).expanduser(), Path(credentials).expanduser()


def _update(path: Path, section: str, values: dict[str, str]) -> None:
    parser = configparser.RawConfigParser()
    if path.exists():
        parser.read(path)
    if parser.has_section(section):
        parser.remove_section(section)
    parser.add_section(section)
    for key, value in values.items():
        parser.set(section, key, value)
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    with path.open("w") as handle:
        parser.write(handle)
    path.chmod(0o600)


def write_profile(name: str, access_key_id: str, secret: str, region: str, endpoint: str) -> None:
    """Add or replace profile ``name`` (writes two files under ~/.aws)."""
    config, credentials = config_paths()
    section = "default" if name == "default" else f"profile {name}"
    _update(config, section, {"region": region, "endpoint_url": endpoint, "output": "json"})
    _update(
        credentials,
        name,
        {
            "aws_access_key_id": access_key_id,
            "aws_secret_access_key": secret,
        },
    )
