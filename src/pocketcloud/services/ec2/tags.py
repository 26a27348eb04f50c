"""Tags on EC2 resources: CreateTags, DeleteTags, DescribeTags, TagSpecifications."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import partial

from pocketcloud.errors import InvalidParameterValue
from pocketcloud.services.context import Cloud
from pocketcloud.services.ec2 import filters, resources

MAX_TAGS = 50


@dataclass(frozen=True)
class Tag:
    """A tag as DescribeTags lists it."""

    resource_id: str
    resource_type: str
    key: str
    value: str


def validate(tags: Mapping[str, str]) -> None:
    """EC2's limits: key 1-128 chars, value ≤256, no ``aws:`` prefix."""
    for key, value in tags.items():
        if not 1 <= len(key) <= 128:
            raise InvalidParameterValue(f"Tag key '{key[:130]}' must be 1 to 128 characters long")
        if len(value) > 256:
            raise InvalidParameterValue(f"Tag value for key '{key}' exceeds 256 characters")
        if key.lower().startswith("aws:"):
            raise InvalidParameterValue(
                "Tag keys starting with 'aws:' are reserved for internal use"
            )


def for_resource(cloud: Cloud, resource_id: str) -> dict[str, str]:
    """The tags of one resource."""
    rows = cloud.store.all("SELECT key, value FROM tags WHERE resource_id = ?", (resource_id,))
    return {row["key"]: row["value"] for row in rows}


def for_resources(cloud: Cloud, resource_ids: Iterable[str]) -> dict[str, dict[str, str]]:
    """The tags of many resources, in one query."""
    wanted = list(resource_ids)
    out: dict[str, dict[str, str]] = {rid: {} for rid in wanted}
    if not wanted:
        return out
    for start in range(0, len(wanted), 500):
        chunk = wanted[start : start + 500]
        marks = ",".join("?" * len(chunk))
        rows = cloud.store.all(
            f"SELECT resource_id, key, value FROM tags WHERE resource_id IN ({marks})",  # noqa: S608
            chunk,
        )
        for row in rows:
            out[row["resource_id"]][row["key"]] = row["value"]
    return out


def apply(cloud: Cloud, resource_id: str, tags: Mapping[str, str]) -> None:
    """Set tags on an existing resource (call inside the creating transaction)."""
    if not tags:
        return
    validate(tags)
    cloud.store.executemany(
        "INSERT INTO tags(resource_id, key, value) VALUES(?, ?, ?) "
        "ON CONFLICT(resource_id, key) DO UPDATE SET value = excluded.value",
        [(resource_id, key, value) for key, value in tags.items()],
    )
    count = cloud.store.scalar("SELECT count(*) FROM tags WHERE resource_id = ?", (resource_id,))
    if count > MAX_TAGS:
        raise InvalidParameterValue(f"Resource {resource_id} would have more than {MAX_TAGS} tags")


def create_tags(cloud: Cloud, resource_ids: Sequence[str], tags: Mapping[str, str]) -> None:
    """CreateTags: every resource must exist; all or nothing."""
    with cloud.store.transaction():
        for resource_id in resource_ids:
            resources.require(cloud, resource_id)
            apply(cloud, resource_id, tags)


def delete_tags(
    cloud: Cloud, resource_ids: Sequence[str], tags: Sequence[tuple[str, str | None]]
) -> None:
    """DeleteTags: no tags deletes all; a tag with a value deletes only on a match."""
    with cloud.store.transaction():
        for resource_id in resource_ids:
            resources.require(cloud, resource_id)
            if not tags:
                cloud.store.execute("DELETE FROM tags WHERE resource_id = ?", (resource_id,))
            for key, value in tags:
                sql = "DELETE FROM tags WHERE resource_id = ? AND key = ?"
                params: list[str] = [resource_id, key]
                if value is not None:
                    sql += " AND value = ?"
                    params.append(value)
                cloud.store.execute(sql, params)


DESCRIBE_FILTERS = ("key", "value", "resource-id", "resource-type")


def describe_tags(
    cloud: Cloud,
    flts: Sequence[filters.Filter],
    max_results: int | None,
    next_token: str | None,
) -> tuple[list[Tag], str | None]:
    """DescribeTags with its filters and pagination."""
    filters.check_filter_names(flts, DESCRIBE_FILTERS)
    rows = cloud.store.all("SELECT resource_id, key, value FROM tags")
    found = [
        Tag(
            r["resource_id"],
            resources.kind_of(r["resource_id"]).resource_type,
            r["key"],
            r["value"],
        )
        for r in rows
    ]
    selected = [tag for tag in found if filters.matches(flts, partial(_fields, tag))]
    return filters.paginate(
        selected, lambda t: f"{t.resource_id}\0{t.key}", max_results, next_token, bounds=(5, 1000)
    )


def _fields(tag: Tag, name: str) -> list[str] | None:
    return {
        "key": [tag.key],
        "value": [tag.value],
        "resource-id": [tag.resource_id],
        "resource-type": [tag.resource_type],
    }.get(name)
