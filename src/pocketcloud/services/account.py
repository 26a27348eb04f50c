"""The cloud's identity and start-up state: account, region, default network, admin.

``initialize`` creates what a new AWS account has; ``open_cloud`` loads it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pocketcloud import ids
from pocketcloud.config import Paths, Settings, load_settings, save_settings
from pocketcloud.services.context import Cloud, now
from pocketcloud.services.ec2 import vpcs
from pocketcloud.services.iam import policies as iam_policies
from pocketcloud.services.iam import users as iam_users
from pocketcloud.store import Store

ADMIN_USER = "admin"


@dataclass(frozen=True)
class AdminCredentials:
    """The access key created for the admin user by ``initialize``."""

    user_name: str
    access_key_id: str
    secret_access_key: str


def ensure_layout(paths: Paths) -> None:
    """Create the state directory's folders with their modes (writes to the filesystem).

    0711: instances' user-namespace root (host uid 100000) must traverse to its workdir,
    but may not list the directory; the files in it are private (0600).
    """
    paths.root.mkdir(parents=True, exist_ok=True)
    paths.root.chmod(0o711)
    paths.keys.mkdir(exist_ok=True, mode=0o700)
    paths.instances.mkdir(exist_ok=True)
    paths.instances.chmod(0o711)


def open_cloud(root: Path) -> Cloud:
    """Load an initialized cloud from its state directory (opens the database)."""
    paths = Paths(root)
    if not paths.database.exists():
        raise FileNotFoundError(f"no pocketcloud state in {root}; run `pocketcloud init` first")
    ensure_layout(paths)
    settings = load_settings(paths)
    store = Store(paths.database, settings.durability)
    account = store.get_meta("account_id")
    if account is None:
        raise FileNotFoundError(f"{paths.database} is not initialized; run `pocketcloud init`")
    return Cloud(store, paths, settings, account)


def initialize(root: Path, settings: Settings) -> tuple[Cloud, AdminCredentials | None]:
    """Create the state directory and what a new AWS account has, once.

    Writes files under ``root``. Returns the admin's new credentials the first
    time, and None when the cloud was already initialized.
    """
    paths = Paths(root)
    ensure_layout(paths)
    store = Store(paths.database)
    existing = store.get_meta("account_id")
    if existing is not None:
        return Cloud(store, paths, load_settings(paths), existing), None
    save_settings(paths, settings)
    cloud = Cloud(store, paths, settings, ids.account_id())
    with store.transaction():
        store.set_meta("account_id", cloud.account_id)
        store.set_meta("created", now())
        vpcs.create_default_network(cloud, settings.vpc_cidr)
        credentials = _create_admin(cloud)
    return cloud, credentials


def _create_admin(cloud: Cloud) -> AdminCredentials:
    """The admin IAM user with AdministratorAccess and one access key."""
    iam_users.create_user(cloud, ADMIN_USER, "/")
    iam_policies.attach_policy(
        cloud, "user", ADMIN_USER, "arn:aws:iam::aws:policy/AdministratorAccess"
    )
    key = iam_users.create_access_key(cloud, ADMIN_USER)
    return AdminCredentials(ADMIN_USER, key.access_key_id, key.secret)
