"""What each console section shows, fetched as the signed-in principal.

A section runs one API operation through the API's own chain after authentication —
``authorize`` (the same IAM decision, the same error) then the operation's handler — so
a user sees exactly what the AWS CLI would show them, and a denied section carries AWS's
error (code and message) instead of items. The rows the templates show are made here, in
pure functions.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pocketcloud import ids
from pocketcloud.api.authorize import authorize
from pocketcloud.api.call import Call
from pocketcloud.api.registry import SERVED
from pocketcloud.api.s3 import actions as s3_actions
from pocketcloud.errors import CloudError
from pocketcloud.services.context import Cloud
from pocketcloud.services.iam.principals import Principal

Item = dict[str, Any]

#: section name → (service:Operation, the result member holding the items)
SECTIONS = {
    "instances": ("ec2:DescribeInstances", "Reservations"),
    "security-groups": ("ec2:DescribeSecurityGroups", "SecurityGroups"),
    "key-pairs": ("ec2:DescribeKeyPairs", "KeyPairs"),
    "users": ("iam:ListUsers", "Users"),
    "roles": ("iam:ListRoles", "Roles"),
    "buckets": ("s3:ListBuckets", "Buckets"),
}
MAX_PAGES = 50


@dataclass(frozen=True)
class Section:
    """A section's items, or the AWS error that took their place."""

    name: str
    action: str
    items: list[Item] = field(default_factory=list)
    error_code: str | None = None
    error_message: str | None = None

    @property
    def denied(self) -> bool:
        return self.error_code is not None


def fetch(cloud: Cloud, principal: Principal, name: str, source_ip: str) -> Section:
    """The section ``name`` as ``principal`` sees it (reads the store; every page)."""
    called, member = SECTIONS[name]
    service, operation = called.split(":")
    action = s3_actions.action(operation, {}) if service == "s3" else called
    items: list[Item] = []
    params: dict[str, Any] = {}
    try:
        authorize(cloud, principal, service, operation, params, source_ip, cloud.region)
        handler = SERVED[service].handlers[operation]
        for _ in range(MAX_PAGES):
            call = Call(
                cloud, principal, service, operation, ids.request_id(), source_ip, cloud.region
            )
            result = handler(call, params)
            items += result.get(member) or []
            params = _next_page(result)
            if not params:
                break
    except CloudError as error:
        return Section(name, action, error_code=error.code, error_message=error.message)
    if name == "instances":
        items = [i for r in items for i in r.get("Instances", [])]
    return Section(name, action, items)


def denial(cloud: Cloud, principal: Principal, action: str, source_ip: str) -> CloudError | None:
    """The error the API would give ``principal`` for ``action`` (on ``*``), or None."""
    service, operation = action.split(":")
    try:
        authorize(cloud, principal, service, operation, {}, source_ip, cloud.region)
    except CloudError as error:
        return error
    return None


def _next_page(result: Item) -> dict[str, Any]:
    """The parameters that ask for the next page (EC2 NextToken, IAM Marker), if any."""
    if result.get("NextToken"):
        return {"NextToken": result["NextToken"]}
    if result.get("IsTruncated") and result.get("Marker"):
        return {"Marker": result["Marker"]}
    return {}


def tag(item: Item, key: str) -> str | None:
    """The value of one of an item's tags (EC2 ``Tags`` list), or None."""
    for pair in item.get("Tags") or []:
        if pair.get("Key") == key:
            return str(pair.get("Value", ""))
    return None


@dataclass(frozen=True)
class RuleRow:
    """One security group rule as the console shows it."""

    direction: str  # "inbound" or "outbound"
    protocol: str  # "tcp", "udp", "icmp", "all"
    ports: str  # "22", "8000-8100", "all"
    peer: str  # a CIDR or a group id
    description: str = ""

    @property
    def text(self) -> str:
        """``tcp 22 from 0.0.0.0/0`` (``to`` for outbound rules)."""
        word = "from" if self.direction == "inbound" else "to"
        ports = "" if self.ports == "all" else f" {self.ports}"
        return f"{self.protocol}{ports} {word} {self.peer}"


def rule_rows(group: Item) -> list[RuleRow]:
    """A described group's rules, one row per peer, inbound first."""
    rows: list[RuleRow] = []
    for direction, member in (("inbound", "IpPermissions"), ("outbound", "IpPermissionsEgress")):
        for perm in group.get(member) or []:
            protocol, ports = _protocol_ports(perm)
            for peer, description in _peers(perm):
                rows.append(RuleRow(direction, protocol, ports, peer, description))
    return rows


def _protocol_ports(perm: Item) -> tuple[str, str]:
    protocol = str(perm.get("IpProtocol", "-1"))
    if protocol == "-1":
        return "all", "all"
    low, high = perm.get("FromPort"), perm.get("ToPort")
    if protocol in ("icmp", "1") and low not in (None, -1):
        return "icmp", f"type {low}" + ("" if high in (None, -1) else f" code {high}")
    if low is None or low == -1 or (protocol in ("tcp", "udp") and (low, high) == (0, 65535)):
        return protocol, "all"
    return protocol, str(low) if low == high else f"{low}-{high}"


def _peers(perm: Item) -> list[tuple[str, str]]:
    peers = [(str(r["CidrIp"]), str(r.get("Description", ""))) for r in perm.get("IpRanges", [])]
    peers += [
        (str(r["CidrIpv6"]), str(r.get("Description", ""))) for r in perm.get("Ipv6Ranges", [])
    ]
    peers += [
        (str(r["GroupId"]), str(r.get("Description", ""))) for r in perm.get("UserIdGroupPairs", [])
    ]
    peers += [(str(r["PrefixListId"]), "") for r in perm.get("PrefixListIds", [])]
    return peers
