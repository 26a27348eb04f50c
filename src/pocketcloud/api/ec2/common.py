"""What the EC2 wire handlers share: the registry and the Filters/Tags wire forms."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pocketcloud.api.call import Params, Registry
from pocketcloud.errors import InvalidParameterValue
from pocketcloud.services.ec2 import filters

registry = Registry("ec2")


def filters_of(params: Params) -> list[filters.Filter]:
    """The ``Filters`` parameter as domain values."""
    return [
        filters.Filter(f.get("Name", ""), tuple(f.get("Values", [])))
        for f in params.get("Filters", [])
    ]


def tag_spec(params: Params, resource_type: str) -> dict[str, str]:
    """The tags TagSpecifications asks for on ``resource_type``."""
    out: dict[str, str] = {}
    for spec in params.get("TagSpecifications", []):
        if spec.get("ResourceType") != resource_type:
            raise InvalidParameterValue(
                f"'{spec.get('ResourceType')}' is not a valid taggable resource type for this "
                "operation."
            )
        out.update(tag_dict(spec.get("Tags", [])))
    return out


def tag_dict(items: list[dict[str, Any]]) -> dict[str, str]:
    """``[{"Key": k, "Value": v}]`` → ``{k: v}``."""
    return {t.get("Key", ""): t.get("Value", "") for t in items}


def tag_list(mapping: Mapping[str, str]) -> list[dict[str, str]]:
    """``{k: v}`` → ``[{"Key": k, "Value": v}]`` (omitted by the codec when empty)."""
    return [{"Key": k, "Value": v} for k, v in sorted(mapping.items())]
