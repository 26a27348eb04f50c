"""EC2 key pairs: CreateKeyPair, ImportKeyPair, DescribeKeyPairs, DeleteKeyPair."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial

from pocketcloud import ids
from pocketcloud.errors import ClientError, InvalidParameterValue
from pocketcloud.services.context import Cloud, now
from pocketcloud.services.ec2 import filters, keys, tags
from pocketcloud.store.sqlite import Row

FILTERS = ("key-pair-id", "key-name", "fingerprint", "key-type")


@dataclass(frozen=True)
class KeyPair:
    """A stored key pair (EC2 never keeps the private key)."""

    key_pair_id: str
    name: str
    key_type: str
    fingerprint: str
    public_key: str
    created: str
    tags: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class CreatedKeyPair:
    """A new key pair and its private key, which is shown once."""

    key_pair: KeyPair
    private_key: str


def _validate_name(name: str) -> None:
    if not name or len(name) > 255 or not name.isascii():
        raise InvalidParameterValue(
            f"Invalid value '{name[:300]}' for keyName. "
            "Key names must be 1 to 255 ASCII characters."
        )


def _insert(
    cloud: Cloud, name: str, material: keys.KeyMaterial, key_tags: Mapping[str, str]
) -> KeyPair:
    _validate_name(name)
    if cloud.store.one("SELECT 1 FROM key_pairs WHERE name = ?", (name,)):
        raise ClientError("InvalidKeyPair.Duplicate", f"The keypair '{name}' already exists.")
    pair = KeyPair(
        ids.ec2_id("key"),
        name,
        material.key_type.value,
        material.fingerprint,
        material.public_openssh,
        now(),
        dict(key_tags),
    )
    cloud.store.execute(
        "INSERT INTO key_pairs(key_pair_id, name, key_type, fingerprint, public_key, created) "
        "VALUES(?, ?, ?, ?, ?, ?)",
        (pair.key_pair_id, name, pair.key_type, pair.fingerprint, pair.public_key, pair.created),
    )
    tags.apply(cloud, pair.key_pair_id, key_tags)
    return pair


def create_key_pair(
    cloud: Cloud, name: str, key_type: str, key_format: str, key_tags: Mapping[str, str]
) -> CreatedKeyPair:
    """CreateKeyPair: a new key; the private key is returned and never stored."""
    try:
        kind = keys.KeyType(key_type)
    except ValueError as exc:
        raise InvalidParameterValue(f"Invalid value '{key_type}' for KeyType") from exc
    if key_format not in ("pem", "ppk"):
        raise InvalidParameterValue(f"Invalid value '{key_format}' for KeyFormat")
    tags.validate(key_tags)
    generated = keys.generate(kind, key_format)
    with cloud.store.transaction():
        pair = _insert(cloud, name, generated.material, key_tags)
    return CreatedKeyPair(pair, generated.private_key)


def import_key_pair(
    cloud: Cloud, name: str, public_key: bytes, key_tags: Mapping[str, str]
) -> KeyPair:
    """ImportKeyPair: OpenSSH, RFC 4716 or PEM public key material."""
    material = keys.import_public_key(public_key)
    with cloud.store.transaction():
        return _insert(cloud, name, material, key_tags)


def _from_row(row: Row, key_tags: Mapping[str, str]) -> KeyPair:
    return KeyPair(
        row["key_pair_id"],
        row["name"],
        row["key_type"],
        row["fingerprint"],
        row["public_key"],
        row["created"],
        key_tags,
    )


def get_by_name(cloud: Cloud, name: str) -> KeyPair:
    """One key pair by name; InvalidKeyPair.NotFound if there is none."""
    row = cloud.store.one("SELECT * FROM key_pairs WHERE name = ?", (name,))
    if row is None:
        raise ClientError("InvalidKeyPair.NotFound", f"The key pair '{name}' does not exist")
    return _from_row(row, tags.for_resource(cloud, row["key_pair_id"]))


def describe_key_pairs(
    cloud: Cloud, names: Sequence[str], key_ids: Sequence[str], flts: Sequence[filters.Filter]
) -> list[KeyPair]:
    """DescribeKeyPairs: every name and id asked for must exist."""
    filters.check_filter_names(flts, FILTERS)
    rows = cloud.store.all("SELECT * FROM key_pairs ORDER BY name")
    _require_all(names, {r["name"] for r in rows}, "The key pair '{}' does not exist")
    _require_all(key_ids, {r["key_pair_id"] for r in rows}, "The key pair ID '{}' does not exist")
    chosen = [
        r
        for r in rows
        if (not names or r["name"] in names) and (not key_ids or r["key_pair_id"] in key_ids)
    ]
    all_tags = tags.for_resources(cloud, (r["key_pair_id"] for r in chosen))
    pairs = [_from_row(r, all_tags[r["key_pair_id"]]) for r in chosen]
    return [p for p in pairs if filters.matches(flts, partial(_fields, p))]


def _require_all(wanted: Sequence[str], present: set[str], message: str) -> None:
    for item in wanted:
        if item not in present:
            raise ClientError("InvalidKeyPair.NotFound", message.format(item))


def _fields(pair: KeyPair, name: str) -> list[str] | None:
    own = {
        "key-pair-id": [pair.key_pair_id],
        "key-name": [pair.name],
        "fingerprint": [pair.fingerprint],
        "key-type": [pair.key_type],
    }.get(name)
    return own if own is not None else filters.tag_fields(name, pair.tags)


def delete_key_pair(cloud: Cloud, name: str | None, key_pair_id: str | None) -> str | None:
    """DeleteKeyPair by name or id; like EC2, deleting a missing name succeeds.

    Returns the deleted key pair's id, if one was deleted.
    """
    if not name and not key_pair_id:
        raise ClientError(
            "MissingParameter", "The request must contain the parameter KeyName or KeyPairId"
        )
    with cloud.store.transaction():
        if key_pair_id:
            row = cloud.store.one("SELECT * FROM key_pairs WHERE key_pair_id = ?", (key_pair_id,))
            if row is None:
                raise ClientError(
                    "InvalidKeyPair.NotFound", f"The key pair ID '{key_pair_id}' does not exist"
                )
        else:
            row = cloud.store.one("SELECT * FROM key_pairs WHERE name = ?", (name,))
        if row is None:
            return None
        cloud.store.execute("DELETE FROM key_pairs WHERE key_pair_id = ?", (row["key_pair_id"],))
        cloud.store.execute("DELETE FROM tags WHERE resource_id = ?", (row["key_pair_id"],))
        return str(row["key_pair_id"])


def identify(cloud: Cloud, name: str | None, key_pair_id: str | None) -> tuple[str, str | None]:
    """(name, id) of the key pair named by either, for its ARN and tag conditions.

    Runs before the call itself checks existence: for a key pair that does not exist
    the name is what was given (the id if only that was) and the id may be None.
    """
    if key_pair_id:
        found = cloud.store.scalar(
            "SELECT name FROM key_pairs WHERE key_pair_id = ?", (key_pair_id,)
        )
        return (str(found) if found is not None else key_pair_id), key_pair_id
    found = cloud.store.scalar("SELECT key_pair_id FROM key_pairs WHERE name = ?", (name,))
    return name or "*", (None if found is None else str(found))
