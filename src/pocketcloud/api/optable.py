"""The supported-operations table, generated from the registries and botocore's models.

``python -m pocketcloud.api.optable`` prints the Markdown kept in docs/operations.md; a
test compares the two, so the document cannot drift from the code. For each Describe
call the filters EC2 documents (read from the model's documentation of ``Filters``) are
compared with the ones the handler registered.
"""

from __future__ import annotations

import fnmatch
import functools
from collections.abc import Iterable
from html.parser import HTMLParser
from typing import Any

import botocore.loaders

from pocketcloud.api.registry import REGISTRIES, SERVED

#: how an operation differs from AWS, where it does (shown in the table)
DIFFERENCES: dict[str, str] = {
    "CreateVpc": "a CIDR overlapping another VPC of the cloud, its Elastic IP pool or a route "
    "of the host is refused (InvalidVpc.Range): every VPC is routed in the host's one table; "
    "IPv6 and IPAM are refused (UnsupportedOperation)",
    "DescribeVpcs": "DhcpOptionsId is `default`: there is no DHCP options resource",
    "CreateRoute": "targets are internet gateways only (other targets: UnsupportedOperation); "
    "an instance reaches beyond the machine when its table routes exactly 0.0.0.0/0 to an "
    "attached gateway and the cloud's NAT is on",
    "RunInstances": "instances are namespaces on this machine: one network interface "
    "(DeviceIndex 0), a gp2/gp3/standard root volume whose size is recorded, not enforced; "
    "x86_64 images only (arm64 types are refused as on AWS); no IPv6, placement groups, Spot "
    "or capacity reservations",
    "DescribeImages": "the cloud's own images answer to Owners amazon, self and the account id",
    "DescribeInstanceTypes": "every type botocore names; shows what is enforced (vCPUs as a "
    "CPU quota, memory as a cgroup limit), not bandwidth, EBS or instance-store figures",
    "DescribeVolumes": "each instance's root disk (its overlay upper layer) is its one volume",
    "DeleteVolume": "only volumes kept after their instance ended (DeleteOnTermination false)",
    "DescribeNetworkInterfaces": "each instance's primary interface; no interfaces of their own "
    "(CreateNetworkInterface) and no secondary addresses",
    "ModifyNetworkInterfaceAttribute": "SourceDestCheck is stored, not enforced",
    "AllocateAddress": "addresses come from the cloud's pool (`eip_pool`), reachable from this "
    "machine only",
    "AssociateAddress": "any instance of the machine reaches an Elastic IP, even one whose "
    "subnet has no route to an internet gateway",
    "CreateLaunchTemplate": "ClientToken is accepted but not idempotent",
    "PutObject": "CRC32C and CRC64NVME checksums are refused (no library for them here); "
    "CRC32, SHA1 and SHA256 are checked, in headers or aws-chunked trailers",
    "CreateBucket": "virtual-hosted addressing under s3.localhost (and AWS's names pointed "
    "here); path-style everywhere",
    "ListBuckets": "no pagination (ContinuationToken, MaxBuckets are ignored)",
    "PutBucketPolicy": "there is no account root user to whom a bucket policy never applies: a "
    "policy denying the admin s3:DeleteBucketPolicy cannot be taken back",
    "PutPublicAccessBlock": "bucket settings only (no account-level Block Public Access); "
    "BlockPublicAcls and IgnorePublicAcls are stored and reported: there are no ACLs to block",
    "PutBucketAcl": "ACLs are not implemented: an ACL may only restate the owner's full "
    "control (AccessControlListNotSupported under BucketOwnerEnforced, NotImplemented under "
    "the other ownership settings)",
    "PutObjectAcl": "as PutBucketAcl",
}
#: operations served that botocore's models lack (routed before the codec), with their note
EXTRA: dict[str, dict[str, str]] = {
    "s3": {
        "PostObject": "browser uploads: an HTML form (multipart/form-data) posted to the bucket, "
        "authorized by a POST policy signed with SigV4 or SigV2, as boto3's "
        "`generate_presigned_post` builds it; not an operation of botocore's model. Fields "
        "PutObject's handler ignores as headers (storage class, encryption) are accepted, "
        "named by a condition like any field, and ignored",
    },
}


class _FilterNames(HTMLParser):
    """The ``<code>`` at the start of each top-level ``<li>`` of a Filters description."""

    def __init__(self) -> None:
        super().__init__()
        self.depth = 0
        self.names: list[str] = []
        self._want = False
        self._in_code = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "ul":
            self.depth += 1
        elif tag == "li" and self.depth == 1:
            self._want = True
        elif tag == "code" and self._want:
            self._in_code = True

    def handle_endtag(self, tag: str) -> None:
        if tag == "ul":
            self.depth -= 1
        elif tag == "code":
            self._in_code = False

    def handle_data(self, data: str) -> None:
        if self._in_code and data.strip():
            self.names.append(data.strip())
            self._want = self._in_code = False


@functools.cache
def _model(service: str) -> dict[str, Any]:
    loaded: dict[str, Any] = botocore.loaders.create_loader().load_service_model(
        service, "service-2"
    )
    return loaded


def documented_filters(operation: str) -> tuple[str, ...]:
    """The filter names EC2 documents for ``operation`` (tag filters left out)."""
    model = _model("ec2")
    shape = model["shapes"][model["operations"][operation]["input"]["shape"]]
    member = shape["members"].get("Filters") or shape["members"].get("Filter")
    if member is None:
        return ()
    parser = _FilterNames()
    parser.feed(member.get("documentation", ""))
    names = (n for n in parser.names if not n.startswith("tag") and "&lt;" not in n)
    return tuple(dict.fromkeys(names))


def missing_filters(operation: str, supported: Iterable[str]) -> list[str]:
    """Documented filters that none of ``supported`` (which may hold ``*`` patterns) covers."""
    patterns = list(supported)
    return [
        name
        for name in documented_filters(operation)
        if not any(fnmatch.fnmatchcase(name, p) for p in patterns)
    ]


def _filter_cell(service: str, operation: str) -> str:
    if service != "ec2":
        return ""
    documented = documented_filters(operation)
    if not documented:
        return ""
    supported = REGISTRIES[service].filters.get(operation, ())
    missing = missing_filters(operation, supported)
    cell = f"{len(documented) - len(missing)} of {len(documented)}"
    return cell + (" (missing: " + ", ".join(missing) + ")" if missing else "")


def render() -> str:
    """The Markdown document (pure apart from reading botocore's bundled models)."""
    out = [
        "# Supported operations",
        "",
        "Generated by `python -m pocketcloud.api.optable > docs/operations.md` from the "
        "handlers the server registers and botocore's service models; a test fails when this "
        "file and the code disagree. Filters: how many of the filters AWS documents for the "
        "call are accepted (tag filters — `tag:<key>`, `tag-key`, `tag-value` — always are). "
        "An unknown filter gets AWS's `InvalidParameterValue`.",
        "",
    ]
    for service in sorted(SERVED):
        served = SERVED[service].handlers
        total = len(_model(service)["operations"])
        extra = EXTRA.get(service, {})
        also = f", and {', '.join(sorted(extra))}" if extra else ""
        out += [
            f"## {service.upper()} — {len(served)} of {total} operations{also}",
            "",
            "| Operation | Filters | Differences from AWS |",
            "|---|---|---|",
        ]
        for operation in sorted([*served, *extra]):
            note = extra.get(operation) or DIFFERENCES.get(operation, "")
            cell = "" if operation in extra else _filter_cell(service, operation)
            out.append(f"| {operation} | {cell} | {note} |")
        out.append("")
    return "\n".join(out)


def summary() -> str:
    """The compact list README carries between its ``operations`` markers."""
    lines = []
    for service in sorted(SERVED):
        served = sorted(SERVED[service].handlers)
        lines.append(f"- **{service.upper()}** ({len(served)}): " + ", ".join(served) + ".")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(render(), end="")
