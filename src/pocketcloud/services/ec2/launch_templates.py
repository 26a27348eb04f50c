"""Launch templates and their versions.

A version's data is stored as JSON in the wire form of ``RequestLaunchTemplateData``
(whose members are exactly those of ``ResponseLaunchTemplateData``), so members this
cloud cannot act on are kept and shown back, not dropped. Version numbers are never
reused: a deleted latest version leaves a gap.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from pocketcloud import ids
from pocketcloud.errors import ClientError, InvalidParameterValue
from pocketcloud.services.context import Cloud, now
from pocketcloud.services.ec2 import filters, tags
from pocketcloud.store.sqlite import Row

NAME = re.compile(r"^[a-zA-Z0-9().\-/_]{3,128}$")
MAX_VERSIONS = 10000
TEMPLATE_FILTERS = ("create-time", "launch-template-name")
VERSION_FILTERS = (
    "create-time",
    "ebs-optimized",
    "http-endpoint",
    "http-protocol-ipv4",
    "http-protocol-ipv6",
    "http-put-response-hop-limit",
    "http-tokens",
    "host-resource-group-arn",
    "iam-instance-profile",
    "image-id",
    "instance-type",
    "is-default-version",
    "kernel-id",
    "license-configuration-arn",
    "network-card-index",
    "ram-disk-id",
)
LATEST, DEFAULT = "$Latest", "$Default"

Data = Mapping[str, Any]


@dataclass(frozen=True)
class LaunchTemplate:
    """A launch template's header."""

    template_id: str
    name: str
    default_version: int
    latest_version: int
    created: str
    created_by: str
    tags: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class TemplateVersion:
    """One version of a launch template, with its data in wire form."""

    template_id: str
    name: str
    version: int
    description: str
    data: Data
    created: str
    created_by: str
    is_default: bool


@dataclass(frozen=True)
class Ref:
    """How a call names a template: by id or by name (exactly one)."""

    template_id: str | None = None
    name: str | None = None


def check_name(name: str) -> None:
    """AWS's rule: 3-128 characters of letters, digits and ``( ) . - / _``."""
    if not NAME.match(name or ""):
        raise ClientError(
            "InvalidLaunchTemplateName.MalformedException",
            "A launch template name must be between 3 and 128 characters, and may contain "
            "letters, numbers, and the following characters: - ( ) . / _.'",
        )


def _dump(data: Data) -> str:
    return json.dumps(dict(data), default=str, sort_keys=True)


def _template(cloud: Cloud, row: Row) -> LaunchTemplate:
    return LaunchTemplate(
        row["template_id"],
        row["name"],
        row["default_version"],
        row["latest_version"],
        row["created"],
        row["created_by"],
        tags.for_resource(cloud, row["template_id"]),
    )


def _not_found_id(template_id: str) -> ClientError:
    return ClientError(
        "InvalidLaunchTemplateId.NotFound",
        f"The specified launch template, with template ID {template_id}, does not exist.",
    )


def _not_found_name(name: str) -> ClientError:
    return ClientError(
        "InvalidLaunchTemplateName.NotFoundException",
        f"The specified launch template, with template name {name}, does not exist.",
    )


def check_id(template_id: str) -> None:
    """InvalidLaunchTemplateId.Malformed unless the id is ``lt-`` + hex."""
    rest = template_id[3:]
    if (
        not template_id.startswith("lt-")
        or not rest
        or any(c not in "0123456789abcdef" for c in rest)
    ):
        raise ClientError(
            "InvalidLaunchTemplateId.Malformed",
            f"The specified ID for the launch template is not valid: {template_id}",
        )


def find(cloud: Cloud, ref: Ref) -> LaunchTemplate:
    """The template a call names; AWS's errors for none, both, malformed or missing."""
    if ref.template_id and ref.name:
        raise ClientError(
            "InvalidParameterCombination",
            "The parameters LaunchTemplateId and LaunchTemplateName cannot both be specified.",
        )
    if ref.template_id:
        check_id(ref.template_id)
        row = cloud.store.one(
            "SELECT * FROM launch_templates WHERE template_id = ?", (ref.template_id,)
        )
        if row is None:
            raise _not_found_id(ref.template_id)
        return _template(cloud, row)
    if ref.name:
        row = cloud.store.one("SELECT * FROM launch_templates WHERE name = ?", (ref.name,))
        if row is None:
            raise _not_found_name(ref.name)
        return _template(cloud, row)
    raise ClientError(
        "MissingParameter",
        "The request must contain the parameter LaunchTemplateName or LaunchTemplateId",
    )


def create_launch_template(
    cloud: Cloud,
    name: str,
    description: str,
    data: Data,
    template_tags: Mapping[str, str],
    created_by: str,
) -> tuple[LaunchTemplate, TemplateVersion]:
    """CreateLaunchTemplate: the template and its version 1 (the default)."""
    check_name(name)
    tags.validate(template_tags)
    with cloud.store.transaction():
        if cloud.store.one("SELECT 1 FROM launch_templates WHERE name = ?", (name,)):
            raise ClientError(
                "InvalidLaunchTemplateName.AlreadyExistsException",
                f"Launch template name already in use: {name}",
            )
        template_id, stamp = ids.ec2_id("lt"), now()
        cloud.store.execute(
            "INSERT INTO launch_templates(template_id, name, default_version, latest_version, "
            "created, created_by) VALUES(?, ?, 1, 1, ?, ?)",
            (template_id, name, stamp, created_by),
        )
        _insert_version(cloud, template_id, 1, description, data, stamp, created_by)
        tags.apply(cloud, template_id, template_tags)
        template = find(cloud, Ref(template_id=template_id))
        return template, version(cloud, template, 1)


def _insert_version(
    cloud: Cloud, template_id: str, number: int, description: str, data: Data, stamp: str, by: str
) -> None:
    cloud.store.execute(
        "INSERT INTO launch_template_versions(template_id, version, description, data, created, "
        "created_by) VALUES(?, ?, ?, ?, ?, ?)",
        (template_id, number, description, _dump(data), stamp, by),
    )


def _version(template: LaunchTemplate, row: Row) -> TemplateVersion:
    return TemplateVersion(
        template.template_id,
        template.name,
        row["version"],
        row["description"],
        json.loads(row["data"]),
        row["created"],
        row["created_by"],
        row["version"] == template.default_version,
    )


def _number(template: LaunchTemplate, spec: str) -> int:
    """A version spec (``$Latest``, ``$Default`` or a number) as a number."""
    if spec == LATEST:
        return template.latest_version
    if spec == DEFAULT:
        return template.default_version
    if not spec.isdigit():
        raise InvalidParameterValue(
            f"The version '{spec}' is not valid: use a version number, $Latest or $Default."
        )
    return int(spec)


def version(cloud: Cloud, template: LaunchTemplate, spec: str | int) -> TemplateVersion:
    """One version of a template; InvalidLaunchTemplateId.VersionNotFound if absent."""
    number = spec if isinstance(spec, int) else _number(template, spec)
    row = cloud.store.one(
        "SELECT * FROM launch_template_versions WHERE template_id = ? AND version = ?",
        (template.template_id, number),
    )
    if row is None:
        raise ClientError(
            "InvalidLaunchTemplateId.VersionNotFound",
            f"Could not find launch template version {spec} for launch template "
            f"{template.template_id}",
        )
    return _version(template, row)


def resolve(cloud: Cloud, ref: Ref, spec: str | None) -> TemplateVersion:
    """The version RunInstances launches from (no version: the default)."""
    return version(cloud, find(cloud, ref), spec or DEFAULT)


def create_version(
    cloud: Cloud,
    ref: Ref,
    source: str | None,
    description: str,
    data: Data,
    created_by: str,
) -> TemplateVersion:
    """CreateLaunchTemplateVersion: a new latest version; with ``source`` it starts from that
    version's data and the given members replace the source's."""
    with cloud.store.transaction():
        template = find(cloud, ref)
        merged: dict[str, Any] = {}
        if source is not None:
            merged.update(version(cloud, template, source).data)
        merged.update(data)
        count = cloud.store.scalar(
            "SELECT count(*) FROM launch_template_versions WHERE template_id = ?",
            (template.template_id,),
        )
        if count >= MAX_VERSIONS:
            raise ClientError(
                "LaunchTemplateVersionLimitExceeded",
                f"Launch template {template.template_id} already has {MAX_VERSIONS} versions.",
            )
        number = template.latest_version + 1
        _insert_version(cloud, template.template_id, number, description, merged, now(), created_by)
        cloud.store.execute(
            "UPDATE launch_templates SET latest_version = ? WHERE template_id = ?",
            (number, template.template_id),
        )
        return version(cloud, find(cloud, ref), number)


def describe_launch_templates(
    cloud: Cloud,
    template_ids: Sequence[str],
    names: Sequence[str],
    flts: Sequence[filters.Filter],
    max_results: int | None,
    next_token: str | None,
) -> tuple[list[LaunchTemplate], str | None]:
    """DescribeLaunchTemplates: by id, by name or all; filters; pages of up to 200."""
    filters.check_filter_names(flts, TEMPLATE_FILTERS)
    if template_ids or names:
        found = [find(cloud, Ref(template_id=t)) for t in template_ids]
        found += [find(cloud, Ref(name=n)) for n in names]
    else:
        found = [_template(cloud, r) for r in cloud.store.all("SELECT * FROM launch_templates")]
    chosen = [t for t in found if filters.matches(flts, partial(_template_fields, t))]
    unique = list({t.template_id: t for t in chosen}.values())
    return filters.paginate(
        unique, lambda t: t.template_id, max_results, next_token, bounds=(1, 200)
    )


def _template_fields(t: LaunchTemplate, name: str) -> list[str] | None:
    own = {"create-time": [t.created], "launch-template-name": [t.name]}.get(name)
    return own if own is not None else filters.tag_fields(name, t.tags)


def _versions_of(
    cloud: Cloud, template: LaunchTemplate, specs: Sequence[str], low: int | None, high: int | None
) -> list[TemplateVersion]:
    if specs:
        found = [version(cloud, template, s) for s in specs]
    else:
        rows = cloud.store.all(
            "SELECT * FROM launch_template_versions WHERE template_id = ?",
            (template.template_id,),
        )
        found = [_version(template, r) for r in rows]
    return [
        v
        for v in found
        if (low is None or v.version >= low) and (high is None or v.version <= high)
    ]


def describe_versions(
    cloud: Cloud,
    ref: Ref,
    specs: Sequence[str],
    bounds: tuple[str | None, str | None],
    flts: Sequence[filters.Filter],
    max_results: int | None,
    next_token: str | None,
) -> tuple[list[TemplateVersion], str | None]:
    """DescribeLaunchTemplateVersions: one template's versions (by number, $Latest,
    $Default, Min/MaxVersion), or without a template the $Latest/$Default of every one."""
    filters.check_filter_names(flts, VERSION_FILTERS)
    low, high = (int(b) if b else None for b in bounds)
    if ref.template_id or ref.name:
        found = _versions_of(cloud, find(cloud, ref), specs, low, high)
    else:
        if not specs or any(s not in (LATEST, DEFAULT) for s in specs):
            raise ClientError(
                "MissingParameter",
                "Without LaunchTemplateId or LaunchTemplateName, Versions must name $Latest "
                "or $Default",
            )
        templates = [_template(cloud, r) for r in cloud.store.all("SELECT * FROM launch_templates")]
        found = [v for t in templates for v in _versions_of(cloud, t, specs, low, high)]
    unique = list({(v.template_id, v.version): v for v in found}.values())
    chosen = [v for v in unique if filters.matches(flts, partial(_version_fields, v))]
    return filters.paginate(
        chosen,
        lambda v: f"{v.template_id}\0{v.version:08d}",
        max_results,
        next_token,
        bounds=(1, 200),
    )


def _version_fields(v: TemplateVersion, name: str) -> list[str] | None:
    data = v.data
    metadata = data.get("MetadataOptions") or {}
    profile = data.get("IamInstanceProfile") or {}
    values = {
        "create-time": [v.created],
        "ebs-optimized": [str(bool(data.get("EbsOptimized"))).lower()],
        "http-endpoint": [metadata.get("HttpEndpoint", "")],
        "http-protocol-ipv4": [metadata.get("HttpProtocolIpv4", "")],
        "http-protocol-ipv6": [metadata.get("HttpProtocolIpv6", "")],
        "http-put-response-hop-limit": [str(metadata.get("HttpPutResponseHopLimit", ""))],
        "http-tokens": [metadata.get("HttpTokens", "")],
        "host-resource-group-arn": [(data.get("Placement") or {}).get("HostResourceGroupArn", "")],
        "iam-instance-profile": [profile.get("Arn", ""), profile.get("Name", "")],
        "image-id": [data.get("ImageId", "")],
        "instance-type": [data.get("InstanceType", "")],
        "is-default-version": [str(v.is_default).lower()],
        "kernel-id": [data.get("KernelId", "")],
        "license-configuration-arn": [
            spec.get("LicenseConfigurationArn", "")
            for spec in data.get("LicenseSpecifications", [])
        ],
        "network-card-index": [
            str(n.get("NetworkCardIndex", "")) for n in data.get("NetworkInterfaces", [])
        ],
        "ram-disk-id": [data.get("RamDiskId", "")],
    }
    return values.get(name)


def modify_launch_template(cloud: Cloud, ref: Ref, default: str | None) -> LaunchTemplate:
    """ModifyLaunchTemplate: sets the default version (which must exist)."""
    with cloud.store.transaction():
        template = find(cloud, ref)
        if default is not None:
            chosen = version(cloud, template, default)
            cloud.store.execute(
                "UPDATE launch_templates SET default_version = ? WHERE template_id = ?",
                (chosen.version, template.template_id),
            )
        return find(cloud, Ref(template_id=template.template_id))


def delete_launch_template(cloud: Cloud, ref: Ref) -> LaunchTemplate:
    """DeleteLaunchTemplate: the template, every version and its tags."""
    with cloud.store.transaction():
        template = find(cloud, ref)
        cloud.store.execute(
            "DELETE FROM launch_templates WHERE template_id = ?", (template.template_id,)
        )
        cloud.store.execute("DELETE FROM tags WHERE resource_id = ?", (template.template_id,))
        return template


@dataclass(frozen=True)
class VersionFailure:
    """A version DeleteLaunchTemplateVersions could not delete, and why."""

    spec: str
    code: str
    message: str


def delete_versions(
    cloud: Cloud, ref: Ref, specs: Sequence[str]
) -> tuple[LaunchTemplate, list[int], list[VersionFailure]]:
    """DeleteLaunchTemplateVersions: each version alone succeeds or fails (never the default)."""
    if not specs:
        raise ClientError(
            "MissingParameter", "The request must contain the parameter LaunchTemplateVersion"
        )
    deleted: list[int] = []
    failed: list[VersionFailure] = []
    with cloud.store.transaction():
        template = find(cloud, ref)
        for spec in specs:
            try:
                number = version(cloud, template, spec).version
            except ClientError:
                failed.append(
                    VersionFailure(
                        spec,
                        "launchTemplateVersionDoesNotExist",
                        f"The specified launch template version {spec} does not exist.",
                    )
                )
                continue
            if number == template.default_version:
                failed.append(
                    VersionFailure(
                        spec,
                        "unexpectedError",
                        "Cannot delete the default version of a launch template; set another "
                        "version as the default first.",
                    )
                )
                continue
            cloud.store.execute(
                "DELETE FROM launch_template_versions WHERE template_id = ? AND version = ?",
                (template.template_id, number),
            )
            deleted.append(number)
    return template, deleted, failed
