"""Round trips between pocketcloud's codec and botocore's own serializers and parsers.

For every operation pocketcloud serves, a full sample input (every member filled) is
serialized by botocore, form-encoded and decoded as a server would, and parsed by the
codec; a full sample output is rendered by the codec and parsed by botocore. Both must
come back unchanged.
"""

from __future__ import annotations

import functools
import urllib.parse
from datetime import UTC, datetime
from typing import Any

import botocore.loaders
import botocore.model
import botocore.parsers
import botocore.serialize
import pytest

from pocketcloud.api._shapes import InputPlans
from pocketcloud.api.codec import OutputPlans, codec_for

OPERATIONS: dict[str, tuple[str, ...]] = {
    "ec2": (
        "CreateKeyPair",
        "ImportKeyPair",
        "DescribeKeyPairs",
        "DeleteKeyPair",
        "CreateSecurityGroup",
        "DeleteSecurityGroup",
        "DescribeSecurityGroups",
        "AuthorizeSecurityGroupIngress",
        "AuthorizeSecurityGroupEgress",
        "RevokeSecurityGroupIngress",
        "RevokeSecurityGroupEgress",
        "DescribeSecurityGroupRules",
        "DescribeVpcs",
        "DescribeSubnets",
        "CreateTags",
        "DeleteTags",
        "DescribeTags",
        "DescribeRegions",
        "DescribeAvailabilityZones",
        "RunInstances",
        "DescribeInstances",
        "TerminateInstances",
        "StartInstances",
        "StopInstances",
        "RebootInstances",
        "DescribeInstanceStatus",
        "GetConsoleOutput",
        "DescribeInstanceTypes",
        "ModifyInstanceAttribute",
        "DescribeInstanceAttribute",
        "DescribeImages",
        "CreateVpc",
        "DeleteVpc",
        "ModifyVpcAttribute",
        "DescribeVpcAttribute",
        "CreateDefaultVpc",
        "CreateSubnet",
        "DeleteSubnet",
        "ModifySubnetAttribute",
        "CreateInternetGateway",
        "AttachInternetGateway",
        "DetachInternetGateway",
        "DeleteInternetGateway",
        "DescribeInternetGateways",
        "CreateRouteTable",
        "DeleteRouteTable",
        "DescribeRouteTables",
        "CreateRoute",
        "ReplaceRoute",
        "DeleteRoute",
        "AssociateRouteTable",
        "DisassociateRouteTable",
        "ReplaceRouteTableAssociation",
        "DescribeNetworkInterfaces",
        "ModifyNetworkInterfaceAttribute",
        "DescribeNetworkInterfaceAttribute",
        "AllocateAddress",
        "AssociateAddress",
        "DisassociateAddress",
        "ReleaseAddress",
        "DescribeAddresses",
        "CreateLaunchTemplate",
        "CreateLaunchTemplateVersion",
        "DescribeLaunchTemplates",
        "DescribeLaunchTemplateVersions",
        "ModifyLaunchTemplate",
        "DeleteLaunchTemplate",
        "DeleteLaunchTemplateVersions",
        "DescribeVolumes",
        "AssociateIamInstanceProfile",
        "DisassociateIamInstanceProfile",
        "ReplaceIamInstanceProfileAssociation",
        "DescribeIamInstanceProfileAssociations",
        "DeleteVolume",
        "DescribeInstanceTypeOfferings",
    ),
    "iam": (
        "CreateUser",
        "GetUser",
        "ListUsers",
        "DeleteUser",
        "CreateGroup",
        "GetGroup",
        "ListGroups",
        "DeleteGroup",
        "AddUserToGroup",
        "RemoveUserFromGroup",
        "ListGroupsForUser",
        "CreateAccessKey",
        "ListAccessKeys",
        "UpdateAccessKey",
        "DeleteAccessKey",
        "PutUserPolicy",
        "GetUserPolicy",
        "ListUserPolicies",
        "DeleteUserPolicy",
        "PutGroupPolicy",
        "GetGroupPolicy",
        "ListGroupPolicies",
        "DeleteGroupPolicy",
        "CreatePolicy",
        "GetPolicy",
        "ListPolicies",
        "DeletePolicy",
        "CreatePolicyVersion",
        "GetPolicyVersion",
        "ListPolicyVersions",
        "DeletePolicyVersion",
        "SetDefaultPolicyVersion",
        "AttachUserPolicy",
        "DetachUserPolicy",
        "ListAttachedUserPolicies",
        "AttachGroupPolicy",
        "DetachGroupPolicy",
        "ListAttachedGroupPolicies",
        "ListEntitiesForPolicy",
        "CreateRole",
        "GetRole",
        "ListRoles",
        "UpdateAssumeRolePolicy",
        "UpdateRole",
        "DeleteRole",
        "PutRolePolicy",
        "GetRolePolicy",
        "ListRolePolicies",
        "DeleteRolePolicy",
        "AttachRolePolicy",
        "DetachRolePolicy",
        "ListAttachedRolePolicies",
        "CreateInstanceProfile",
        "GetInstanceProfile",
        "ListInstanceProfiles",
        "ListInstanceProfilesForRole",
        "DeleteInstanceProfile",
        "AddRoleToInstanceProfile",
        "RemoveRoleFromInstanceProfile",
    ),
    "sts": ("GetCallerIdentity", "AssumeRole", "GetSessionToken"),
}

CASES = [(service, op) for service, ops in OPERATIONS.items() for op in ops]
SAMPLE_TIME = datetime(2026, 11, 25, 10, 0, 0, 123000, tzinfo=UTC)
SAMPLE_TEXT = "<&>\"' é"


@functools.cache
def operation_model(service: str, operation: str) -> Any:
    """botocore's model of one operation."""
    loader = botocore.loaders.create_loader()
    raw = loader.load_service_model(service, "service-2")
    return botocore.model.ServiceModel(raw, service).operation_model(operation)


def sample_string(shape: Any, seed: str, index: int) -> str:
    """An enum value, or text with XML specials fitted to the shape's length limits."""
    enum = shape.metadata.get("enum")
    if enum:
        return str(enum[index % len(enum)])
    text = f"{seed}{index}-{SAMPLE_TEXT}"
    text = text.ljust(shape.metadata.get("min", 0), "x")
    return text[: shape.metadata.get("max", len(text))]


def sample_number(shape: Any, index: int) -> int:
    """An integer inside the shape's min/max range."""
    low = shape.metadata.get("min", 0)
    return int(min(max(low, 5 + index), shape.metadata.get("max", 1 << 30)))


def sample_scalar(shape: Any, seed: str, index: int) -> Any:
    """A value for a scalar shape; booleans alternate with ``index``."""
    kind = shape.type_name
    if kind in ("integer", "long"):
        return sample_number(shape, index)
    if kind == "string":
        return sample_string(shape, seed, index)
    scalars: dict[str, Any] = {
        "boolean": index % 2 == 1,
        "float": 1.5,
        "double": 2.25,
        "timestamp": SAMPLE_TIME,
        "blob": b"\x00\xff" + seed.encode(),
    }
    return scalars[kind]


def sample(shape: Any, seed: str, index: int = 1, depth: int = 0) -> Any:
    """A value for ``shape`` with every member filled, lists and maps of two."""
    kind = shape.type_name
    if kind == "structure":
        members = shape.members.items() if depth <= 12 else ()
        return {name: sample(member, name, index, depth + 1) for name, member in members}
    if kind == "list":
        return [sample(shape.member, seed, i, depth + 1) for i in (1, 2)]
    if kind == "map":
        return {
            sample(shape.key, seed, i, depth + 1): sample(shape.value, seed, i, depth + 1)
            for i in (1, 2)
        }
    return sample_scalar(shape, seed, index)


def wire_params(service: str, operation: str, params: dict[str, Any]) -> dict[str, str]:
    """botocore's request body for ``params``, form-encoded and decoded like a server does."""
    model = operation_model(service, operation)
    serializer = botocore.serialize.create_serializer(model.metadata["protocol"])
    body = serializer.serialize_to_request(params, model)["body"]
    encoded = urllib.parse.urlencode(body)
    return dict(urllib.parse.parse_qsl(encoded, keep_blank_values=True, strict_parsing=True))


def botocore_parse(service: str, operation: str, body: bytes, status: int = 200) -> Any:
    """What botocore's response parser makes of ``body``."""
    model = operation_model(service, operation)
    parser = botocore.parsers.create_parser(model.metadata["protocol"])
    response = {"body": body, "headers": {}, "status_code": status}
    return parser.parse(response, model.output_shape)


class TestInputRoundTrip:
    """Codec.parse reads back exactly what botocore's serializer wrote."""

    @pytest.mark.parametrize(("service", "operation"), CASES)
    def test_full_input(self, service: str, operation: str) -> None:
        """Every member of the input shape, nested lists and structures included, survives."""
        model = operation_model(service, operation)
        params = sample(model.input_shape, operation) if model.input_shape else {}
        parsed = codec_for(service).parse(wire_params(service, operation, params))
        assert parsed == (operation, params)

    @pytest.mark.parametrize(("service", "operation"), CASES)
    def test_required_only_input(self, service: str, operation: str) -> None:
        """An input holding only the required members comes back without the optional ones."""
        shape = operation_model(service, operation).input_shape
        full = sample(shape, operation) if shape else {}
        params = {name: full[name] for name in (shape.required_members if shape else [])}
        parsed = codec_for(service).parse(wire_params(service, operation, params))
        assert parsed == (operation, params)


class TestOutputRoundTrip:
    """botocore's parser reads back exactly what Codec.serialize wrote."""

    @pytest.mark.parametrize(("service", "operation"), CASES)
    def test_full_output(self, service: str, operation: str) -> None:
        """Every member of the output shape survives, and the request id lands in metadata."""
        shape = operation_model(service, operation).output_shape
        result = sample(shape, operation) if shape else {}
        body = codec_for(service).serialize(operation, result, "req-1")
        parsed = botocore_parse(service, operation, body)
        assert parsed.pop("ResponseMetadata")["RequestId"] == "req-1"
        assert parsed == result

    @pytest.mark.parametrize(("service", "operation"), CASES)
    def test_empty_output(self, service: str, operation: str) -> None:
        """An empty result renders a body botocore parses to no members at all."""
        body = codec_for(service).serialize(operation, {}, "req-2")
        parsed = botocore_parse(service, operation, body)
        assert parsed.pop("ResponseMetadata")["RequestId"] == "req-2"
        assert parsed == {}


class TestErrorRoundTrip:
    """botocore's error parser reads Codec.serialize_error bodies."""

    @pytest.mark.parametrize("sender", [True, False])
    @pytest.mark.parametrize(
        ("service", "operation"),
        [("ec2", "DescribeVpcs"), ("iam", "GetUser"), ("sts", "GetCallerIdentity")],
    )
    def test_error_body(self, service: str, operation: str, sender: bool) -> None:
        """Code, message (with XML specials) and request id all reach botocore's parsed error."""
        message = f"Bad {SAMPLE_TEXT} thing"
        body = codec_for(service).serialize_error("Some.Code", message, "req-3", sender=sender)
        parsed = botocore_parse(service, operation, body, status=400)
        assert parsed["Error"]["Code"] == "Some.Code"
        assert parsed["Error"]["Message"] == message
        assert parsed["ResponseMetadata"]["RequestId"] == "req-3"
        if service != "ec2":
            assert parsed["Error"]["Type"] == ("Sender" if sender else "Receiver")


def _synthetic_members() -> dict[str, Any]:
    return {
        "Flat": {"shape": "FlatList"},
        "FlatNamed": {"shape": "FlatNamedList"},
        "Wrapped": {"shape": "NamedMemberList"},
        "Map": {"shape": "NamedMap"},
        "FlatMap": {"shape": "FlatMap"},
        "Renamed": {"shape": "S", "locationName": "Other"},
        "Count": {"shape": "N"},
    }


SYNTHETIC_QUERY_MODEL: dict[str, Any] = {
    "metadata": {
        "protocol": "query",
        "apiVersion": "2020-01-01",
        "xmlNamespace": "https://synthetic.example/doc/2020-01-01/",
        "endpointPrefix": "synthetic",
        "serviceId": "Synthetic",
        "signatureVersion": "v4",
    },
    "operations": {
        "Op": {
            "name": "Op",
            "http": {"method": "POST", "requestUri": "/"},
            "input": {"shape": "OpInput"},
            "output": {"shape": "OpOutput", "resultWrapper": "OpResult"},
        }
    },
    "shapes": {
        "OpInput": {"type": "structure", "members": _synthetic_members()},
        "OpOutput": {"type": "structure", "members": _synthetic_members()},
        "FlatList": {"type": "list", "member": {"shape": "S"}, "flattened": True},
        "FlatNamedList": {
            "type": "list",
            "member": {"shape": "S", "locationName": "Item"},
            "flattened": True,
        },
        "NamedMemberList": {"type": "list", "member": {"shape": "S", "locationName": "Thing"}},
        "NamedMap": {
            "type": "map",
            "key": {"shape": "S", "locationName": "K"},
            "value": {"shape": "N", "locationName": "V"},
        },
        "FlatMap": {
            "type": "map",
            "key": {"shape": "S"},
            "value": {"shape": "S"},
            "flattened": True,
        },
        "S": {"type": "string"},
        "N": {"type": "integer"},
    },
}


class TestSyntheticQueryShapes:
    """Flattened lists and maps, absent from the served models, still match botocore."""

    def operation(self) -> Any:
        """The synthetic operation exercising every query naming rule."""
        model = botocore.model.ServiceModel(SYNTHETIC_QUERY_MODEL, "synthetic")
        return model.operation_model("Op")

    def test_input(self) -> None:
        """Flattened/renamed lists and entry/flattened maps parse back to the input."""
        model = self.operation()
        params = sample(model.input_shape, "Op")
        body = botocore.serialize.create_serializer("query").serialize_to_request(params, model)
        wire = {k: str(v) for k, v in body["body"].items() if k not in ("Action", "Version")}
        assert "Item.1" in wire
        assert "Wrapped.Thing.1" in wire
        assert "Map.entry.1.K" in wire
        assert "FlatMap.1.key" in wire
        assert InputPlans("query").parser(model.input_shape)(wire, "") == params

    def test_output(self) -> None:
        """Flattened/renamed lists and entry/flattened maps render what botocore parses."""
        model = self.operation()
        result = sample(model.output_shape, "Op")
        out: list[str] = []
        close = "</OpResult><ResponseMetadata><RequestId>r</RequestId></ResponseMetadata>"
        emit = OutputPlans("query").emitter(model.output_shape)
        emit(result, out, "<OpResponse><OpResult>", close + "</OpResponse>")
        response = {"body": "".join(out).encode(), "headers": {}, "status_code": 200}
        parsed = botocore.parsers.create_parser("query").parse(response, model.output_shape)
        assert parsed.pop("ResponseMetadata")["RequestId"] == "r"
        assert parsed == result
