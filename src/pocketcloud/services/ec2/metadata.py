"""The instance metadata service's answers, IMDSv1 and IMDSv2 (pure but for the store).

``answer`` maps (instance, method, path, headers) to (status, body); the HTTP side
lives in ``pocketcloud.api.ec2.metadata``. An instance is known by its source address, so
each instance sees only its own metadata.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Mapping
from dataclasses import dataclass

from pocketcloud.services.context import Cloud
from pocketcloud.services.ec2 import instance_role, instances
from pocketcloud.services.ec2.instances import Instance
from pocketcloud.services.ec2.lifecycle import State

TOKEN_HEADER = "x-aws-ec2-metadata-token"  # noqa: S105 (a header name, not a secret)
TTL_HEADER = "x-aws-ec2-metadata-token-ttl-seconds"
MAX_TTL = 21600


@dataclass(frozen=True)
class Answer:
    """An HTTP status, body and content type."""

    status: int
    body: bytes
    content_type: str = "text/plain"


def by_address(cloud: Cloud, address: str) -> Instance | None:
    """The live instance of this cloud that owns a private address."""
    row = cloud.store.scalar(
        "SELECT instance_id FROM instances WHERE private_ip = ? AND state IN "
        "('pending', 'running')",
        (address,),
    )
    if row is None:
        return None
    return instances.load(cloud, instance_ids=[str(row)])[0]


def _secret(cloud: Cloud) -> bytes:
    secret = cloud.caches.get("imds-secret")
    if secret is None:
        secret = hashlib.sha256(f"{cloud.account_id}:{time.time_ns()}".encode()).digest()
        cloud.caches["imds-secret"] = secret
    return bytes(secret)


def make_token(cloud: Cloud, instance_id: str, ttl: int, now: float) -> str:
    """An IMDSv2 session token bound to one instance until ``now + ttl``."""
    expiry = int(now) + ttl
    message = f"{instance_id}:{expiry}".encode()
    mac = hmac.new(_secret(cloud), message, hashlib.sha256).hexdigest()[:32]
    return base64.urlsafe_b64encode(f"{expiry}:{mac}".encode()).decode()


def token_valid(cloud: Cloud, instance_id: str, token: str, now: float) -> bool:
    """Whether a token was made for this instance and has not expired."""
    try:
        expiry_text, mac = base64.urlsafe_b64decode(token.encode()).decode().split(":")
        expiry = int(expiry_text)
    except (ValueError, UnicodeError):
        return False
    message = f"{instance_id}:{expiry}".encode()
    expected = hmac.new(_secret(cloud), message, hashlib.sha256).hexdigest()[:32]
    return hmac.compare_digest(mac, expected) and now < expiry


def _tree(cloud: Cloud, i: Instance) -> dict[str, str]:
    """Every leaf of /latest/meta-data/, by path."""
    key = i.public_key or ""
    public = i.private_ip if i.state in (State.PENDING, State.RUNNING) else ""
    leaves = {
        "ami-id": i.image_id,
        "ami-launch-index": str(i.launch_index),
        "hostname": f"{i.hostname}.ec2.internal",
        "instance-id": i.instance_id,
        "instance-type": i.instance_type,
        "local-hostname": f"{i.hostname}.ec2.internal",
        "local-ipv4": i.private_ip,
        "public-hostname": public,
        "public-ipv4": public,
        "placement/availability-zone": i.zone,
        "placement/region": cloud.region,
        "reservation-id": i.reservation_id,
        "security-groups": "\n".join(i.group_ids),
        "services/domain": "amazonaws.com",
    }
    if key:
        leaves["public-keys/0/openssh-key"] = key + "\n"
    return leaves | _iam_leaves(cloud, i)


def _iam_leaves(cloud: Cloud, i: Instance) -> dict[str, str]:
    """``iam/info`` and the role's credentials leaf (filled in when it is read)."""
    profile = instance_role.profile_of(cloud, i.profile[0]) if i.profile else None
    if profile is None:
        return {}
    leaves = {"iam/info": instance_role.info(profile, time.time())}
    if profile.role is not None:
        leaves[f"iam/security-credentials/{profile.role.name}"] = ""
    return leaves


def _listing(leaves: Mapping[str, str], prefix: str) -> str | None:
    names = sorted(
        {
            path[len(prefix) :].split("/")[0] + ("/" if "/" in path[len(prefix) :] else "")
            for path in leaves
            if path.startswith(prefix)
        }
    )
    return "\n".join(names) if names else None


def _identity(cloud: Cloud, i: Instance) -> str:
    return json.dumps(
        {
            "accountId": cloud.account_id,
            "architecture": "x86_64",
            "availabilityZone": i.zone,
            "imageId": i.image_id,
            "instanceId": i.instance_id,
            "instanceType": i.instance_type,
            "pendingTime": i.launch_time,
            "privateIp": i.private_ip,
            "region": cloud.region,
            "version": "2017-09-30",
        },
        indent=2,
    )


def answer(
    cloud: Cloud, instance: Instance, method: str, path: str, headers: Mapping[str, str], now: float
) -> Answer:
    """The IMDS answer to one request from ``instance``."""
    if path == "/latest/api/token":
        return _token(cloud, instance, method, headers, now)
    token = headers.get(TOKEN_HEADER)
    if token is not None and not token_valid(cloud, instance.instance_id, token, now):
        return Answer(401, b"")
    if method != "GET":
        return Answer(405, b"")
    return _get(cloud, instance, path)


def _token(
    cloud: Cloud, instance: Instance, method: str, headers: Mapping[str, str], now: float
) -> Answer:
    if method != "PUT":
        return Answer(405, b"")
    try:
        ttl = int(headers.get(TTL_HEADER, ""))
    except ValueError:
        return Answer(400, b"")
    if not 1 <= ttl <= MAX_TTL:
        return Answer(400, b"")
    return Answer(200, make_token(cloud, instance.instance_id, ttl, now).encode())


def _user_data(cloud: Cloud, instance: Instance) -> Answer:
    raw = cloud.store.scalar(
        "SELECT user_data FROM instances WHERE instance_id = ?", (instance.instance_id,)
    )
    return Answer(200, bytes(raw), "application/octet-stream") if raw else Answer(404, b"")


def _identity_document(cloud: Cloud, instance: Instance) -> Answer:
    return Answer(200, _identity(cloud, instance).encode(), "application/json")


def _top(cloud: Cloud, instance: Instance) -> Answer:
    return Answer(200, b"dynamic\nmeta-data\nuser-data")


SPECIAL = {
    "/latest/user-data": _user_data,
    "/latest/user-data/": _user_data,
    "/latest/dynamic/instance-identity/document": _identity_document,
    "/": _top,
    "/latest": _top,
    "/latest/": _top,
}


def _credentials(cloud: Cloud, instance: Instance) -> Answer:
    profile = instance_role.profile_of(cloud, instance.profile[0]) if instance.profile else None
    if profile is None or profile.role is None:
        return Answer(404, b"")
    body = instance_role.credentials(cloud, instance.instance_id, profile.role, time.time())
    return Answer(200, body.encode())


def _get(cloud: Cloud, instance: Instance, path: str) -> Answer:
    special = SPECIAL.get(path)
    if special is not None:
        return special(cloud, instance)
    if not path.startswith("/latest/meta-data"):
        return Answer(404, b"")
    relative = path[len("/latest/meta-data") :].lstrip("/")
    leaves = _tree(cloud, instance)
    if relative.startswith("iam/security-credentials/") and leaves.get(relative) == "":
        return _credentials(cloud, instance)
    if relative in leaves:
        return Answer(200, leaves[relative].encode())
    if relative in ("public-keys", "public-keys/") and instance.key_name:
        return Answer(200, f"0={instance.key_name}".encode())
    listing = _listing(leaves, relative.rstrip("/") + "/" if relative else "")
    return Answer(200, listing.encode()) if listing else Answer(404, b"")
