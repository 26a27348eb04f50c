"""Who is calling, and which policies apply to them (cached until IAM changes)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

from pocketcloud.iam.policy import Policy, parse_policy
from pocketcloud.services.context import Cloud
from pocketcloud.services.iam.common import arn
from pocketcloud.services.iam.policies import documents_for_user

K = TypeVar("K")
V = TypeVar("V")


@dataclass(frozen=True)
class Principal:
    """An authenticated caller: an IAM user and the access key it signed with."""

    user_name: str
    user_id: str
    arn: str
    access_key_id: str
    secret: str
    active: bool


class GenerationCache(Generic[K, V]):
    """A dict that empties itself whenever the cloud's IAM generation moves on."""

    def __init__(self) -> None:
        self._generation = -1
        self._items: dict[K, V] = {}

    def get(self, cloud: Cloud, key: K, load: Callable[[], V]) -> V:
        if cloud.iam_generation != self._generation:
            self._items.clear()
            self._generation = cloud.iam_generation
        if key not in self._items:
            self._items[key] = load()
        return self._items[key]


def _principals(cloud: Cloud) -> GenerationCache[str, Principal | None]:
    cache: GenerationCache[str, Principal | None] = cloud.caches.setdefault(
        "principals", GenerationCache()
    )
    return cache


def _policies(cloud: Cloud) -> GenerationCache[str, tuple[Policy, ...]]:
    cache: GenerationCache[str, tuple[Policy, ...]] = cloud.caches.setdefault(
        "policies", GenerationCache()
    )
    return cache


def by_access_key(cloud: Cloud, access_key_id: str) -> Principal | None:
    """The user an access key belongs to (Inactive keys too; the caller checks)."""
    return _principals(cloud).get(cloud, access_key_id, lambda: _load(cloud, access_key_id))


def _load(cloud: Cloud, access_key_id: str) -> Principal | None:
    row = cloud.store.one(
        "SELECT k.secret, k.status, u.name, u.user_id, u.path FROM iam_access_keys k "
        "JOIN iam_users u ON u.name = k.user_name WHERE k.access_key_id = ?",
        (access_key_id,),
    )
    if row is None:
        return None
    return Principal(
        row["name"],
        row["user_id"],
        arn(cloud, "user", row["path"], row["name"]),
        access_key_id,
        row["secret"],
        row["status"] == "Active",
    )


def policies_of(cloud: Cloud, principal: Principal) -> tuple[Policy, ...]:
    """Every parsed policy that applies to the principal."""
    return _policies(cloud).get(
        cloud,
        principal.user_name,
        lambda: tuple(parse_policy(d) for d in documents_for_user(cloud, principal.user_name)),
    )
