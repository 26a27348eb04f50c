"""The cloud's identity and start-up state: account, region, default network, admin.

``initialize`` creates what a new AWS account has; ``open_cloud`` loads it.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from pathlib import Path

from pocketcloud import ids
from pocketcloud.config import Paths, Settings, load_settings, save_settings
from pocketcloud.services import iam_policies, iam_users, security_groups
from pocketcloud.services.context import Cloud, now
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
        _create_default_network(cloud)
        credentials = _create_admin(cloud)
    return cloud, credentials


def _create_default_network(cloud: Cloud) -> None:
    """A default VPC as AWS makes it: one /20 subnet per zone (public addresses on
    launch), DNS hostnames on, its default security group, an internet gateway attached
    and a main route table sending 0.0.0.0/0 to it."""
    vpc_id = ids.ec2_id("vpc")
    network = ipaddress.ip_network(cloud.settings.vpc_cidr)
    cloud.store.execute(
        "INSERT INTO vpcs(vpc_id, cidr, is_default, dns_hostnames) VALUES(?, ?, 1, 1)",
        (vpc_id, str(network)),
    )
    igw_id, table_id = ids.ec2_id("igw"), ids.ec2_id("rtb")
    cloud.store.execute(
        "INSERT INTO internet_gateways(igw_id, vpc_id) VALUES(?, ?)", (igw_id, vpc_id)
    )
    cloud.store.execute(
        "INSERT INTO route_tables(route_table_id, vpc_id) VALUES(?, ?)", (table_id, vpc_id)
    )
    cloud.store.executemany(
        "INSERT INTO routes(route_table_id, destination, gateway_id) VALUES(?, ?, ?)",
        [(table_id, str(network), "local"), (table_id, "0.0.0.0/0", igw_id)],
    )
    cloud.store.execute(
        "INSERT INTO route_table_associations(association_id, route_table_id, subnet_id, main) "
        "VALUES(?, ?, NULL, 1)",
        (ids.ec2_id("rtbassoc"), table_id),
    )
    subnets = network.subnets(new_prefix=max(network.prefixlen, 20))
    for zone, subnet in zip(cloud.zones(), subnets, strict=False):
        cloud.store.execute(
            "INSERT INTO subnets(subnet_id, vpc_id, cidr, zone, default_for_az, map_public_ip) "
            "VALUES(?, ?, ?, ?, 1, 1)",
            (ids.ec2_id("subnet"), vpc_id, str(subnet), zone),
        )
    security_groups.create_default_group(cloud, vpc_id)


def _create_admin(cloud: Cloud) -> AdminCredentials:
    """The admin IAM user with AdministratorAccess and one access key."""
    iam_users.create_user(cloud, ADMIN_USER, "/")
    iam_policies.attach_policy(
        cloud, "user", ADMIN_USER, "arn:aws:iam::aws:policy/AdministratorAccess"
    )
    key = iam_users.create_access_key(cloud, ADMIN_USER)
    return AdminCredentials(ADMIN_USER, key.access_key_id, key.secret)
