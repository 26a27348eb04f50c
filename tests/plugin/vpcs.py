"""Helpers the VPC and routing API tests share: fresh VPCs that do not collide, filters."""

from __future__ import annotations

import ipaddress
import secrets
from typing import Any

from botocore.exceptions import ClientError


def new_vpc(ec2: Any, prefix: int = 24, **extra: Any) -> dict[str, Any]:
    """CreateVpc with a random CIDR in 10.0.0.0/9 (test clouds' default VPCs live in
    10.100-249.0.0/16), retried while it overlaps a VPC of a cloud running beside us."""
    for _ in range(30):
        base = secrets.randbelow(100)
        third = secrets.randbelow(256) if prefix >= 24 else (secrets.randbelow(16) * 16)
        cidr = f"10.{base}.{third}.0/{prefix}"
        try:
            return dict(ec2.create_vpc(CidrBlock=cidr, **extra)["Vpc"])
        except ClientError as error:
            if error.response["Error"]["Code"] != "InvalidVpc.Range":
                raise
    raise AssertionError("no free CIDR for a test VPC")


def cidr_within(vpc: dict[str, Any], prefix: int, index: int = 0) -> str:
    """The ``index``-th /``prefix`` block of the VPC's CIDR."""
    net = ipaddress.ip_network(vpc["CidrBlock"])
    return str(list(net.subnets(new_prefix=prefix))[index])


def flt(name: str, *values: str) -> list[dict[str, Any]]:
    """A one-filter Filters list."""
    return [{"Name": name, "Values": list(values)}]
