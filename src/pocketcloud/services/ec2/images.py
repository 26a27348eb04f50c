"""Images (AMIs): the machine-wide image cache, seen through DescribeImages.

An image the cloud knows how to build is listed even before it is built (state
``pending``); RunInstances accepts it and the reconciler builds it on first use.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from pocketcloud.errors import ClientError, InvalidParameterValue
from pocketcloud.host import images as host_images
from pocketcloud.services.context import Cloud
from pocketcloud.services.ec2 import filters

#: every filter EC2 documents for DescribeImages; those naming what our images never have
#: (kernels, product codes, scan results, watermarks, ...) match no image
FILTERS = (
    "architecture",
    "block-device-mapping.delete-on-termination",
    "block-device-mapping.device-name",
    "block-device-mapping.snapshot-id",
    "block-device-mapping.volume-size",
    "block-device-mapping.volume-type",
    "block-device-mapping.encrypted",
    "boot-mode",
    "creation-date",
    "description",
    "ena-support",
    "free-tier-eligible",
    "hypervisor",
    "image-allowed",
    "image-id",
    "image-type",
    "image-watermark.*",
    "instance-type-specification.*",
    "is-public",
    "kernel-id",
    "manifest-location",
    "name",
    "owner-alias",
    "owner-id",
    "platform",
    "platform-details",
    "product-code",
    "product-code.type",
    "public-ssm-parameter-name",
    "ramdisk-id",
    "root-device-name",
    "root-device-type",
    "scan-result.*",
    "source-image-id",
    "source-image-region",
    "source-instance-id",
    "state",
    "state-reason-code",
    "state-reason-message",
    "sriov-net-support",
    "usage-operation",
    "virtualization-type",
)
#: the images pocketcloud builds stand where a provider's public images stand on EC2: they
#: answer to ``Owners=["amazon"]`` and ``owner-alias=amazon`` (and to the account's own id)
OWNER_ALIAS = "amazon"
ROOT_DEVICE = "/dev/xvda"
ROOT_VOLUME_GIB = 8
BUILDABLE = {host_images.DEFAULT_IMAGE: "Debian 12 (bookworm) with sshd, sudo, python3, nginx"}


@dataclass(frozen=True)
class ImageView:
    """An image as DescribeImages shows it."""

    image_id: str
    name: str
    description: str
    state: str
    architecture: str
    created: str
    login_user: str


def cache(cloud: Cloud) -> Path:
    """Where this cloud's images live (shared by the clouds of a machine)."""
    return host_images.cache_dir()


def _views(cloud: Cloud) -> list[ImageView]:
    built = {i.name: i for i in host_images.list_images(cache(cloud))}
    views = [
        ImageView(
            i.image_id, i.name, i.description, "available", i.architecture, i.created, i.login_user
        )
        for i in built.values()
    ]
    for name, description in BUILDABLE.items():
        if name not in built:
            views.append(
                ImageView(
                    host_images.image_id(name),
                    name,
                    description,
                    "pending",
                    host_images.machine_architecture(),
                    "",
                    "admin",
                )
            )
    return sorted(views, key=lambda v: v.name)


def _check_id(image_id: str) -> None:
    rest = image_id[4:]
    if (
        not image_id.startswith("ami-")
        or not rest
        or any(c not in "0123456789abcdef" for c in rest)
    ):
        raise ClientError(
            "InvalidAMIID.Malformed", f'Invalid id: "{image_id}" (expecting "ami-...")'
        )


def require(cloud: Cloud, image_id: str) -> ImageView:
    """The image with this id; InvalidAMIID.Malformed / InvalidAMIID.NotFound otherwise."""
    _check_id(image_id)
    for view in _views(cloud):
        if view.image_id == image_id:
            return view
    raise ClientError("InvalidAMIID.NotFound", f"The image id '[{image_id}]' does not exist")


def _owned_by(cloud: Cloud, owners: Sequence[str]) -> bool:
    """Whether our images answer to ``Owners``: ``amazon`` (their alias), ``self`` or the
    account's id; InvalidParameterValue for a value that is neither an alias nor an id."""
    for owner in owners:
        if owner not in ("self", "amazon", "aws-marketplace", "aws-backup-vault") and not (
            owner.isdigit() and len(owner) == 12
        ):
            raise InvalidParameterValue(f"Invalid value '{owner}' for Owners.")
    return not owners or bool({OWNER_ALIAS, "self", cloud.account_id} & set(owners))


def describe_images(
    cloud: Cloud,
    image_ids: Sequence[str],
    flts: Sequence[filters.Filter],
    owners: Sequence[str] = (),
    max_results: int | None = None,
    next_token: str | None = None,
) -> tuple[list[ImageView], str | None]:
    """DescribeImages: every id asked for must exist; ``owners`` narrows as on EC2."""
    filters.check_filter_names(flts, FILTERS)
    if max_results is not None and image_ids:
        raise ClientError(
            "InvalidParameterCombination",
            "The parameter imagesSet cannot be used with the parameter maxResults",
        )
    views = [require(cloud, i) for i in image_ids] if image_ids else _views(cloud)
    if not _owned_by(cloud, owners):
        views = []
    chosen = [v for v in views if filters.matches(flts, partial(_fields, cloud, v))]
    return filters.paginate(chosen, lambda v: v.image_id, max_results, next_token)


def _fields(cloud: Cloud, view: ImageView, name: str) -> list[str] | None:
    own = {
        "architecture": [view.architecture],
        "block-device-mapping.delete-on-termination": ["true"],
        "block-device-mapping.device-name": [ROOT_DEVICE],
        "block-device-mapping.volume-size": [str(ROOT_VOLUME_GIB)],
        "block-device-mapping.volume-type": ["gp3"],
        "block-device-mapping.encrypted": ["false"],
        "boot-mode": ["uefi-preferred"],
        "creation-date": [view.created] if view.created else [],
        "description": [view.description],
        "ena-support": ["true"],
        "free-tier-eligible": ["true"],
        "hypervisor": ["xen"],
        "image-allowed": ["true"],
        "image-id": [view.image_id],
        "image-type": ["machine"],
        "is-public": ["true"],
        "name": [view.name],
        "owner-alias": [OWNER_ALIAS],
        "owner-id": [cloud.account_id],
        "platform-details": ["Linux/UNIX"],
        "root-device-name": [ROOT_DEVICE],
        "root-device-type": ["ebs"],
        "sriov-net-support": ["simple"],
        "state": [view.state],
        "usage-operation": ["RunInstances"],
        "virtualization-type": ["hvm"],
    }.get(name)
    if own is not None:
        return own
    tagged = filters.tag_fields(name, {})  # images carry no tags here
    return tagged if tagged is not None else []  # a documented field our images lack
