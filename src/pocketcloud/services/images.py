"""Images (AMIs): the machine-wide image cache, seen through DescribeImages.

An image the cloud knows how to build is listed even before it is built (state
``pending``); RunInstances accepts it and the reconciler builds it on first use.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from pocketcloud.errors import ClientError
from pocketcloud.host import images as host_images
from pocketcloud.services import filters
from pocketcloud.services.context import Cloud

FILTERS = (
    "image-id",
    "name",
    "state",
    "architecture",
    "owner-alias",
    "image-type",
    "is-public",
    "root-device-type",
    "virtualization-type",
)
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


def describe_images(
    cloud: Cloud, image_ids: Sequence[str], flts: Sequence[filters.Filter]
) -> list[ImageView]:
    """DescribeImages: every id asked for must exist."""
    filters.check_filter_names(flts, FILTERS)
    views = [require(cloud, i) for i in image_ids] if image_ids else _views(cloud)
    return [v for v in views if filters.matches(flts, partial(_fields, v))]


def _fields(view: ImageView, name: str) -> list[str] | None:
    return {
        "image-id": [view.image_id],
        "name": [view.name],
        "state": [view.state],
        "architecture": [view.architecture],
        "owner-alias": ["pocketcloud"],
        "image-type": ["machine"],
        "is-public": ["true"],
        "root-device-type": ["instance-store"],
        "virtualization-type": ["hvm"],
    }.get(name)
