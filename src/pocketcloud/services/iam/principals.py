"""Who is calling, and which policies apply to them (cached until IAM changes)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

from pocketcloud.iam.policy import Policy, parse_policy
from pocketcloud.services.context import Cloud
from pocketcloud.services.iam.common import arn
from pocketcloud.services.iam.policies import documents_for_role, documents_for_user
from pocketcloud.services.sts import sessions

K = TypeVar("K")
V = TypeVar("V")


@dataclass(frozen=True)
class Principal:
    """An authenticated caller: an IAM user or a role session, and the key it signed with.

    ``kind`` is ``"user"`` or ``"role"``; ``user_name`` is the user's name, or the role's
    for a role session (whose ``arn`` is the ``assumed-role`` ARN and ``user_id``
    ``AROA…:<session>``). Temporary credentials carry their session ``token`` and the
    epoch second they expire at.
    """

    user_name: str
    user_id: str
    arn: str
    access_key_id: str
    secret: str
    active: bool
    kind: str = "user"
    token: str | None = None
    expires: float | None = None
    role_arn: str = ""

    @property
    def is_user(self) -> bool:
        """Whether the caller is an IAM user (long-term key or GetSessionToken session)."""
        return self.kind == "user"

    @property
    def is_anonymous(self) -> bool:
        """Whether nobody signed the request (an unsigned S3 call, see ``ANONYMOUS``)."""
        return self.kind == ANONYMOUS_KIND


ANONYMOUS_KIND = "anonymous"
ANONYMOUS = Principal("", "anonymous", "*", "", "", True, ANONYMOUS_KIND)
"""The caller of an unsigned S3 request: no key, no policies of its own (only a bucket
policy granting to everyone can let it in); ``arn`` is ``*``, as policies name everyone,
and ``user_id`` is ``anonymous``, the ``aws:userid`` IAM gives such a request."""


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
    if access_key_id.startswith(sessions.PREFIX):
        session = sessions.find(cloud, access_key_id)
        return None if session is None else _temporary(cloud, session)
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


def _temporary(cloud: Cloud, session: sessions.Session) -> Principal | None:
    """A session's principal, while the role or user it was issued for still exists."""
    if session.kind == "role":
        table, id_column, kind = "iam_roles", "role_id", "role"
    else:
        table, id_column, kind = "iam_users", "user_id", "user"
    row = cloud.store.one(
        f"SELECT name, path, {id_column} AS unique_id FROM {table} WHERE name = ?",  # noqa: S608
        (session.owner,),
    )
    if row is None or row["unique_id"] != session.owner_id:
        return None
    owner_arn = arn(cloud, kind, row["path"], row["name"])
    if kind == "user":
        user_id, caller_arn = row["unique_id"], owner_arn
    else:
        user_id = f"{row['unique_id']}:{session.session_name}"
        caller_arn = (
            f"arn:aws:sts::{cloud.account_id}:assumed-role/{row['name']}/{session.session_name}"
        )
    return Principal(
        row["name"],
        user_id,
        caller_arn,
        session.access_key_id,
        session.secret,
        True,
        kind,
        session.token,
        session.expires,
        owner_arn if kind == "role" else "",
    )


def policies_of(cloud: Cloud, principal: Principal) -> tuple[Policy, ...]:
    """Every parsed policy that applies to the principal."""
    documents = documents_for_user if principal.is_user else documents_for_role
    return _policies(cloud).get(
        cloud,
        f"{principal.kind}:{principal.user_name.lower()}",
        lambda: tuple(parse_policy(d) for d in documents(cloud, principal.user_name)),
    )
