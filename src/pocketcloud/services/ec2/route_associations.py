"""Route table associations: which table a subnet follows, and which is a VPC's main table.

AssociateRouteTable, DisassociateRouteTable, ReplaceRouteTableAssociation. A subnet has at
most one explicit association; without one it follows its VPC's main table.
"""

from __future__ import annotations

from dataclasses import dataclass

from pocketcloud import ids
from pocketcloud.errors import ClientError, InvalidParameterValue
from pocketcloud.services.context import Cloud
from pocketcloud.services.ec2 import network, routing


@dataclass(frozen=True)
class NewAssociation:
    """What Associate/ReplaceRouteTableAssociation answer."""

    association_id: str
    state: str = "associated"


def _require(cloud: Cloud, association_id: str) -> routing.Association:
    row = cloud.store.one(
        "SELECT * FROM route_table_associations WHERE association_id = ?", (association_id,)
    )
    if row is None:
        raise ClientError(
            "InvalidAssociationID.NotFound",
            f"The association ID '{association_id}' does not exist",
        )
    return routing.Association(
        row["association_id"], row["route_table_id"], row["subnet_id"], bool(row["main"])
    )


def associate_route_table(
    cloud: Cloud, table_id: str, subnet_id: str | None, gateway_id: str | None
) -> NewAssociation:
    """AssociateRouteTable: a subnet of the table's VPC without an explicit association."""
    if gateway_id:
        raise ClientError(
            "UnsupportedOperation", "pocketcloud associates route tables with subnets only"
        )
    if not subnet_id:
        raise ClientError("MissingParameter", "The request must contain the parameter subnetId")
    with cloud.store.transaction():
        table = routing.require_table(cloud, table_id)
        subnet = network.require_subnet(cloud, subnet_id)
        if subnet.vpc_id != table.vpc_id:
            raise InvalidParameterValue(
                f"the route table {table_id} and subnet {subnet_id} belong to different networks"
            )
        present = cloud.store.scalar(
            "SELECT route_table_id FROM route_table_associations WHERE subnet_id = ?",
            (subnet_id,),
        )
        if present is not None:
            raise ClientError(
                "Resource.AlreadyAssociated",
                f"the specified association for route table {table_id} conflicts with an "
                f"existing association (subnet {subnet_id} is associated with {present})",
            )
        association_id = ids.ec2_id("rtbassoc")
        cloud.store.execute(
            "INSERT INTO route_table_associations(association_id, route_table_id, subnet_id, "
            "main) VALUES(?, ?, ?, 0)",
            (association_id, table_id, subnet_id),
        )
    cloud.wake()
    return NewAssociation(association_id)


def disassociate_route_table(cloud: Cloud, association_id: str) -> None:
    """DisassociateRouteTable: the subnet goes back to its VPC's main table (never the main
    association itself)."""
    with cloud.store.transaction():
        found = _require(cloud, association_id)
        if found.main:
            raise InvalidParameterValue(
                f"cannot disassociate the main route table association {association_id}"
            )
        cloud.store.execute(
            "DELETE FROM route_table_associations WHERE association_id = ?", (association_id,)
        )
    cloud.wake()


def replace_route_table_association(
    cloud: Cloud, association_id: str, table_id: str
) -> NewAssociation:
    """ReplaceRouteTableAssociation: the subnet (or the main association) moves to another
    table of the same VPC under a new association id."""
    with cloud.store.transaction():
        found = _require(cloud, association_id)
        table = routing.require_table(cloud, table_id)
        current = routing.require_table(cloud, found.route_table_id)
        if current.vpc_id != table.vpc_id:
            raise InvalidParameterValue(
                f"the route table {table_id} and association {association_id} belong to "
                "different networks"
            )
        new_id = ids.ec2_id("rtbassoc")
        cloud.store.execute(
            "DELETE FROM route_table_associations WHERE association_id = ?", (association_id,)
        )
        cloud.store.execute(
            "INSERT INTO route_table_associations(association_id, route_table_id, subnet_id, "
            "main) VALUES(?, ?, ?, ?)",
            (new_id, table_id, found.subnet_id, int(found.main)),
        )
    cloud.wake()
    return NewAssociation(new_id)


def remove_subnet_association(cloud: Cloud, subnet_id: str) -> None:
    """Drop a subnet's explicit association (inside DeleteSubnet's transaction)."""
    cloud.store.execute("DELETE FROM route_table_associations WHERE subnet_id = ?", (subnet_id,))
