"""What the S3 services share: the cloud's body store, the owner, the not-found errors."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from pocketcloud.errors import ClientError
from pocketcloud.services.context import Cloud
from pocketcloud.store.blobs import Blobs


@dataclass(frozen=True)
class Owner:
    """A bucket's owner as S3 shows it: the account's canonical user id."""

    id: str
    display_name: str


def blobs(cloud: Cloud) -> Blobs:
    """The cloud's object bodies (under ``<state>/s3``)."""
    found = cloud.caches.get("s3.blobs")
    if not isinstance(found, Blobs):
        found = cloud.caches["s3.blobs"] = Blobs(cloud.paths.root / "s3")
    return found


def owner(cloud: Cloud) -> Owner:
    """The account as a canonical user (64 hex digits, stable per account)."""
    canonical = hashlib.sha256(f"pocketcloud:{cloud.account_id}".encode()).hexdigest()
    return Owner(canonical, "pocketcloud")


def no_such_bucket(name: str) -> ClientError:
    return ClientError("NoSuchBucket", "The specified bucket does not exist", status=404)


def no_such_key(key: str) -> ClientError:
    return ClientError("NoSuchKey", "The specified key does not exist.", status=404)


def require_bucket(cloud: Cloud, name: str) -> str:
    """The bucket's region; NoSuchBucket if there is no such bucket."""
    region = cloud.store.scalar("SELECT region FROM s3_buckets WHERE name = ?", (name,))
    if region is None:
        raise no_such_bucket(name)
    return str(region)
