"""Launch template wire handlers, and what RunInstances takes from a template."""

from __future__ import annotations

import base64
from typing import Any

from pocketcloud.api.call import Call, Params, Result
from pocketcloud.api.ec2.common import filters_of, registry, tag_dict, tag_list, tag_spec
from pocketcloud.errors import InvalidParameterValue
from pocketcloud.services.ec2 import launch_templates as lt
from pocketcloud.services.ec2.launch_templates import LaunchTemplate, Ref, TemplateVersion


def stored_data(wire: Params) -> dict[str, Any]:
    """RequestLaunchTemplateData as stored: its members as given (UserData as base64 text).

    The request and response shapes have the same members, so nothing is renamed and
    members this cloud does not act on are kept to be shown back."""
    data = dict(wire)
    if isinstance(data.get("UserData"), bytes):
        data["UserData"] = base64.b64encode(data["UserData"]).decode()
    return data


def response_data(stored: lt.Data) -> Result:
    """Stored data as ResponseLaunchTemplateData."""
    return dict(stored)


def _ref(p: Params) -> Ref:
    return Ref(p.get("LaunchTemplateId"), p.get("LaunchTemplateName"))


def template_view(t: LaunchTemplate) -> Result:
    """A LaunchTemplate structure."""
    return {
        "LaunchTemplateId": t.template_id,
        "LaunchTemplateName": t.name,
        "CreateTime": t.created,
        "CreatedBy": t.created_by,
        "DefaultVersionNumber": t.default_version,
        "LatestVersionNumber": t.latest_version,
        "Tags": tag_list(t.tags),
        "Operator": {"Managed": False},
    }


def version_view(v: TemplateVersion) -> Result:
    """A LaunchTemplateVersion structure."""
    return {
        "LaunchTemplateId": v.template_id,
        "LaunchTemplateName": v.name,
        "VersionNumber": v.version,
        "VersionDescription": v.description or None,
        "CreateTime": v.created,
        "CreatedBy": v.created_by,
        "DefaultVersion": v.is_default,
        "LaunchTemplateData": response_data(v.data),
        "Operator": {"Managed": False},
    }


def _data(p: Params) -> dict[str, Any]:
    if "LaunchTemplateData" not in p:
        raise InvalidParameterValue("The request must contain the parameter LaunchTemplateData")
    return stored_data(p["LaunchTemplateData"] or {})


@registry.op("CreateLaunchTemplate")
def create_launch_template(call: Call, p: Params) -> Result:
    template, _ = lt.create_launch_template(
        call.cloud,
        p.get("LaunchTemplateName", ""),
        p.get("VersionDescription", ""),
        _data(p),
        tag_spec(p, "launch-template"),
        call.principal.arn,
    )
    return {"LaunchTemplate": template_view(template)}


@registry.op("CreateLaunchTemplateVersion")
def create_launch_template_version(call: Call, p: Params) -> Result:
    created = lt.create_version(
        call.cloud,
        _ref(p),
        p.get("SourceVersion"),
        p.get("VersionDescription", ""),
        _data(p),
        call.principal.arn,
    )
    return {"LaunchTemplateVersion": version_view(created)}


@registry.op("DescribeLaunchTemplates", filters=lt.TEMPLATE_FILTERS)
def describe_launch_templates(call: Call, p: Params) -> Result:
    found, token = lt.describe_launch_templates(
        call.cloud,
        p.get("LaunchTemplateIds", []),
        p.get("LaunchTemplateNames", []),
        filters_of(p),
        p.get("MaxResults"),
        p.get("NextToken"),
    )
    return {"LaunchTemplates": [template_view(t) for t in found], "NextToken": token}


@registry.op("DescribeLaunchTemplateVersions", filters=lt.VERSION_FILTERS)
def describe_launch_template_versions(call: Call, p: Params) -> Result:
    found, token = lt.describe_versions(
        call.cloud,
        _ref(p),
        p.get("Versions", []),
        (p.get("MinVersion"), p.get("MaxVersion")),
        filters_of(p),
        p.get("MaxResults"),
        p.get("NextToken"),
    )
    return {"LaunchTemplateVersions": [version_view(v) for v in found], "NextToken": token}


@registry.op("ModifyLaunchTemplate")
def modify_launch_template(call: Call, p: Params) -> Result:
    template = lt.modify_launch_template(call.cloud, _ref(p), p.get("DefaultVersion"))
    return {"LaunchTemplate": template_view(template)}


@registry.op("DeleteLaunchTemplate")
def delete_launch_template(call: Call, p: Params) -> Result:
    return {"LaunchTemplate": template_view(lt.delete_launch_template(call.cloud, _ref(p)))}


@registry.op("DeleteLaunchTemplateVersions")
def delete_launch_template_versions(call: Call, p: Params) -> Result:
    template, deleted, failed = lt.delete_versions(call.cloud, _ref(p), p.get("Versions", []))
    who = {"LaunchTemplateId": template.template_id, "LaunchTemplateName": template.name}
    return {
        "SuccessfullyDeletedLaunchTemplateVersions": [
            {**who, "VersionNumber": number} for number in deleted
        ],
        "UnsuccessfullyDeletedLaunchTemplateVersions": [
            {
                **who,
                "VersionNumber": int(f.spec) if f.spec.isdigit() else None,
                "ResponseError": {"Code": f.code, "Message": f.message},
            }
            for f in failed
        ],
    }


# --- RunInstances from a template -------------------------------------------------------

#: what a template's tags may land on at launch (its spot-request tags have no place here)
LAUNCH_TAGGABLE = ("instance", "volume", "network-interface")


def _merge_tag_specs(template: list[Params], call: list[Params]) -> list[Params]:
    """Tags of both, per resource type; the call's value wins for a key in both."""
    merged: dict[str, dict[str, str]] = {}
    usable = [spec for spec in template if spec.get("ResourceType") in LAUNCH_TAGGABLE]
    for spec in [*usable, *call]:
        kind = spec.get("ResourceType", "")
        merged.setdefault(kind, {}).update(tag_dict(spec.get("Tags", [])))
    return [
        {"ResourceType": kind, "Tags": [{"Key": k, "Value": v} for k, v in found.items()]}
        for kind, found in merged.items()
    ]


def _fold_interface(merged: Params, p: Params) -> None:
    """A template's interface takes the call's SubnetId/SecurityGroupIds (the call wins)."""
    first = dict(merged["NetworkInterfaces"][0])
    if "SubnetId" in p:
        first["SubnetId"] = merged.pop("SubnetId")
    if "SecurityGroupIds" in p:
        first["Groups"] = merged.pop("SecurityGroupIds")
    merged["NetworkInterfaces"] = [first, *merged["NetworkInterfaces"][1:]]


def with_template(call: Call, p: Params) -> tuple[Params, dict[str, str]]:
    """RunInstances parameters with the named template version's data under them, and the
    tags AWS puts on an instance launched from a template."""
    spec = p.get("LaunchTemplate")
    if not spec:
        return p, {}
    chosen = lt.resolve(
        call.cloud,
        Ref(spec.get("LaunchTemplateId"), spec.get("LaunchTemplateName")),
        spec.get("Version"),
    )
    merged: dict[str, Any] = {**chosen.data, **p}
    merged["TagSpecifications"] = _merge_tag_specs(
        list(chosen.data.get("TagSpecifications", [])), list(p.get("TagSpecifications", []))
    )
    if "NetworkInterfaces" in chosen.data and "NetworkInterfaces" not in p:
        _fold_interface(merged, p)
    system = {
        "aws:ec2launchtemplate:id": chosen.template_id,
        "aws:ec2launchtemplate:version": str(chosen.version),
    }
    return merged, system
