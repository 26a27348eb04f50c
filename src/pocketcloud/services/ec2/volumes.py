"""EBS volumes: each instance's root disk (its overlay upper layer) as a volume.

A root volume is ``in-use`` while its instance lives. At termination a DeleteOnTermination
volume is ``deleted`` (it leaves DescribeVolumes); any other becomes ``available`` with no
attachment, and the reconciler moves the instance's upper layer to
``<state dir>/volumes/<volume id>`` before it removes the instance's workdir, so that the
data really is kept until DeleteVolume. An available volume's row keeps ``instance_id``
(the instance it came from, so the reconciler can find its upper layer); it is shown as no
attachment.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

from pocketcloud.errors import ClientError, InvalidParameterValue
from pocketcloud.host import runtime
from pocketcloud.host import volumes as host_volumes
from pocketcloud.services.context import Cloud
from pocketcloud.services.ec2 import filters, tags
from pocketcloud.store.sqlite import Row

ROOT_DEVICE = "/dev/xvda"
MIN_ROOT_GIB = 8  # the image's root snapshot
MAX_GIB = 16384
TYPES = ("gp3", "gp2", "standard")
GP3_IOPS, GP3_THROUGHPUT = 3000, 125
FILTERS = (
    "attachment.attach-time",
    "attachment.delete-on-termination",
    "attachment.device",
    "attachment.instance-id",
    "attachment.status",
    "availability-zone",
    "availability-zone-id",
    "create-time",
    "encrypted",
    "fast-restored",
    "multi-attach-enabled",
    "operator.managed",
    "operator.principal",
    "size",
    "snapshot-id",
    "status",
    "volume-id",
    "volume-type",
)


@dataclass(frozen=True)
class Volume:
    """One volume as stored, with its tags; ``instance_id`` is set only while attached."""

    volume_id: str
    instance_id: str | None
    device: str | None
    size_gib: int
    volume_type: str
    zone: str
    state: str
    delete_on_termination: bool
    created: str
    attach_time: str | None
    tags: Mapping[str, str] = field(default_factory=dict)

    @property
    def iops(self) -> int | None:
        """gp3's baseline; gp2's 3 IOPS per GiB (100 to 16000); none for magnetic."""
        if self.volume_type == "gp3":
            return GP3_IOPS
        if self.volume_type == "gp2":
            return min(max(100, 3 * self.size_gib), 16000)
        return None

    @property
    def throughput(self) -> int | None:
        return GP3_THROUGHPUT if self.volume_type == "gp3" else None


@dataclass(frozen=True)
class RootDisk:
    """What a launch asks of the root volume (BlockDeviceMappings for the root device)."""

    size_gib: int = MIN_ROOT_GIB
    volume_type: str = "gp3"
    delete_on_termination: bool = True


def check_root(disk: RootDisk) -> None:
    """AWS's checks on a root volume: at least the snapshot's size, a type we offer."""
    if disk.size_gib < MIN_ROOT_GIB:
        raise ClientError(
            "InvalidBlockDeviceMapping",
            f"Volume of size {disk.size_gib}GB is smaller than snapshot, expect size >= "
            f"{MIN_ROOT_GIB}GB",
        )
    if disk.size_gib > MAX_GIB:
        raise InvalidParameterValue(
            f"Volume of {disk.size_gib}GiB is too large for {disk.volume_type}."
        )
    if disk.volume_type not in TYPES:
        raise InvalidParameterValue(
            f"Volume type '{disk.volume_type}' is not offered here: a root volume is gp3, gp2 or "
            "standard (provisioned-IOPS and throughput-optimized types are not)."
        )


def data_dir(cloud: Cloud, volume_id: str) -> Path:
    """Where a detached volume's data (its instance's former upper layer) is kept."""
    return cloud.paths.root / "volumes" / volume_id


def _from_row(row: Row, volume_tags: Mapping[str, str]) -> Volume:
    attached = row["state"] == "in-use"
    return Volume(
        row["volume_id"],
        row["instance_id"] if attached else None,
        row["device"] if attached else None,
        row["size_gib"],
        row["volume_type"],
        row["zone"],
        row["state"],
        bool(row["delete_on_termination"]),
        row["created"],
        row["attach_time"] if attached else None,
        volume_tags,
    )


def load(cloud: Cloud, sql_where: str = "", params: Sequence[str] = ()) -> list[Volume]:
    """Volumes that exist (not deleted), with their tags."""
    rows = cloud.store.all(
        "SELECT * FROM volumes WHERE state != 'deleted'" + sql_where,  # noqa: S608 (our own clauses)
        list(params),
    )
    found = tags.for_resources(cloud, (r["volume_id"] for r in rows))
    return [_from_row(r, found[r["volume_id"]]) for r in rows]


def attached_to(cloud: Cloud, instance_id: str) -> list[Volume]:
    """The volumes attached to an instance (its BlockDeviceMappings), by device."""
    found = load(cloud, " AND state = 'in-use' AND instance_id = ?", (instance_id,))
    return sorted(found, key=lambda v: v.device or "")


def check_id(volume_id: str) -> None:
    """InvalidVolumeID.Malformed unless the id is ``vol-`` + hex."""
    rest = volume_id[4:]
    if (
        not volume_id.startswith("vol-")
        or not rest
        or any(c not in "0123456789abcdef" for c in rest)
    ):
        raise ClientError(
            "InvalidVolumeID.Malformed", f'Invalid id: "{volume_id}" (expecting "vol-...")'
        )


def require(cloud: Cloud, volume_ids: Sequence[str]) -> list[Volume]:
    """The named volumes; InvalidVolume.NotFound names the missing ones."""
    for volume_id in volume_ids:
        check_id(volume_id)
    marks = ",".join("?" * len(volume_ids))
    found = {v.volume_id: v for v in load(cloud, f" AND volume_id IN ({marks})", volume_ids)}
    missing = [v for v in volume_ids if v not in found]
    if missing:
        listed = "', '".join(missing)
        raise ClientError("InvalidVolume.NotFound", f"The volume '{listed}' does not exist.")
    return [found[v] for v in dict.fromkeys(volume_ids)]


def describe_volumes(
    cloud: Cloud,
    volume_ids: Sequence[str],
    flts: Sequence[filters.Filter],
    zone_ids: Mapping[str, str],
    max_results: int | None,
    next_token: str | None,
) -> tuple[list[Volume], str | None]:
    """DescribeVolumes (``zone_ids``: zone name → zone id, for that filter)."""
    filters.check_filter_names(flts, FILTERS)
    if max_results is not None and volume_ids:
        raise ClientError(
            "InvalidParameterCombination",
            "The parameter volumeSet cannot be used with the parameter maxResults",
        )
    found = require(cloud, volume_ids) if volume_ids else load(cloud)
    chosen = [v for v in found if filters.matches(flts, partial(_fields, zone_ids, v))]
    return filters.paginate(chosen, lambda v: v.volume_id, max_results, next_token, bounds=(5, 500))


def _fields(zone_ids: Mapping[str, str], v: Volume, name: str) -> list[str] | None:
    attached = v.instance_id is not None
    own = {
        "attachment.attach-time": [v.attach_time or ""] if attached else [],
        "attachment.delete-on-termination": (
            [str(v.delete_on_termination).lower()] if attached else []
        ),
        "attachment.device": [v.device or ""] if attached else [],
        "attachment.instance-id": [v.instance_id or ""] if attached else [],
        "attachment.status": ["attached"] if attached else [],
        "availability-zone": [v.zone],
        "availability-zone-id": [zone_ids.get(v.zone, "")],
        "create-time": [v.created],
        "encrypted": ["false"],
        "fast-restored": ["false"],
        "multi-attach-enabled": ["false"],
        "operator.managed": ["false"],
        "operator.principal": [],
        "size": [str(v.size_gib)],
        "snapshot-id": [""],
        "status": [v.state],
        "volume-id": [v.volume_id],
        "volume-type": [v.volume_type],
    }.get(name)
    return own if own is not None else filters.tag_fields(name, v.tags)


def release_for_termination(cloud: Cloud, instance_ids: Sequence[str]) -> None:
    """At TerminateInstances: DeleteOnTermination volumes are deleted (and their tags),
    the others become available (call inside the terminating transaction)."""
    for instance_id in instance_ids:
        rows = cloud.store.all(
            "SELECT volume_id, delete_on_termination FROM volumes "
            "WHERE instance_id = ? AND state = 'in-use'",
            (instance_id,),
        )
        for row in rows:
            if row["delete_on_termination"]:
                cloud.store.execute(
                    "UPDATE volumes SET state = 'deleted' WHERE volume_id = ?", (row["volume_id"],)
                )
                cloud.store.execute("DELETE FROM tags WHERE resource_id = ?", (row["volume_id"],))
            else:
                cloud.store.execute(
                    "UPDATE volumes SET state = 'available' WHERE volume_id = ?",
                    (row["volume_id"],),
                )


def keep_root(cloud: Cloud, spec: runtime.InstanceSpec) -> None:
    """Before the reconciler destroys a terminated instance's workdir: if its root volume
    was kept (available), stop the instance and move its upper layer to the volume's data
    directory. Idempotent; needs root."""
    row = cloud.store.one(
        "SELECT volume_id FROM volumes WHERE instance_id = ? AND state = 'available'",
        (spec.instance_id,),
    )
    if row is None:
        return
    target = data_dir(cloud, row["volume_id"])
    if target.exists():
        return
    runtime.stop(spec)
    host_volumes.keep(spec.workdir / "upper", target)
    still = cloud.store.scalar("SELECT state FROM volumes WHERE volume_id = ?", (row["volume_id"],))
    if still != "available":  # DeleteVolume came in meanwhile
        host_volumes.remove(target)


def delete_volume(cloud: Cloud, volume_id: str) -> None:
    """DeleteVolume: only an available volume; its kept data is removed (needs root)."""
    with cloud.store.transaction():
        volume = require(cloud, [volume_id])[0]
        if volume.state != "available":
            raise ClientError(
                "VolumeInUse", f"Volume {volume_id} is currently attached to {volume.instance_id}"
            )
        cloud.store.execute(
            "UPDATE volumes SET state = 'deleted' WHERE volume_id = ?", (volume_id,)
        )
        cloud.store.execute("DELETE FROM tags WHERE resource_id = ?", (volume_id,))
    host_volumes.remove(data_dir(cloud, volume_id))
