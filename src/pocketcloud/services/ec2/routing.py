"""Route tables: their routes (``local`` or an internet gateway) and subnet associations.

Each VPC has one main table (an association with no subnet and ``main`` set); a subnet
without an explicit association follows it. The kernel side (``reconcile``) reads the
``routes`` and ``route_table_associations`` tables after ``cloud.wake()``.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial

from pocketcloud import ids
from pocketcloud.errors import ClientError, InvalidParameterValue, MissingParameter
from pocketcloud.services.context import Cloud
from pocketcloud.services.ec2 import filters, gateways, network, tags

LOCAL = "local"
TABLE_FILTERS = (
    "association.gateway-id",
    "association.route-table-association-id",
    "association.route-table-id",
    "association.subnet-id",
    "association.main",
    "owner-id",
    "route-table-id",
    "route.destination-cidr-block",
    "route.destination-ipv6-cidr-block",
    "route.destination-prefix-list-id",
    "route.egress-only-internet-gateway-id",
    "route.gateway-id",
    "route.instance-id",
    "route.nat-gateway-id",
    "route.transit-gateway-id",
    "route.origin",
    "route.state",
    "route.vpc-peering-connection-id",
    "vpc-id",
)


@dataclass(frozen=True)
class Route:
    """One route: a destination and its target (``local`` or an internet gateway)."""

    destination: str
    gateway_id: str
    #: ``active``, or ``blackhole`` when the gateway is detached from the VPC or deleted
    state: str

    @property
    def origin(self) -> str:
        """How the route came to be: the local route comes with the table."""
        return "CreateRouteTable" if self.gateway_id == LOCAL else "CreateRoute"


@dataclass(frozen=True)
class Association:
    """A table's association: with a subnet, or the VPC's main association (no subnet)."""

    association_id: str
    route_table_id: str
    subnet_id: str | None
    main: bool


@dataclass(frozen=True)
class RouteTable:
    route_table_id: str
    vpc_id: str
    routes: tuple[Route, ...] = ()
    associations: tuple[Association, ...] = ()
    tags: Mapping[str, str] = field(default_factory=dict)


# --- reading -------------------------------------------------------------------------------


def _load(cloud: Cloud, table_ids: Sequence[str] | None = None) -> list[RouteTable]:
    """Tables with their routes, associations and tags (all of them when ``table_ids`` is None)."""
    rows = cloud.store.all("SELECT * FROM route_tables ORDER BY route_table_id")
    if table_ids is not None:
        rows = [r for r in rows if r["route_table_id"] in table_ids]
    attached = {
        (r["igw_id"], r["vpc_id"])
        for r in cloud.store.all("SELECT igw_id, vpc_id FROM internet_gateways")
    }
    routes: dict[str, list[Route]] = {}
    for r in cloud.store.all(
        "SELECT r.*, t.vpc_id FROM routes r JOIN route_tables t USING (route_table_id)"
    ):
        live = r["gateway_id"] == LOCAL or (r["gateway_id"], r["vpc_id"]) in attached
        route = Route(r["destination"], r["gateway_id"], "active" if live else "blackhole")
        routes.setdefault(r["route_table_id"], []).append(route)
    assocs: dict[str, list[Association]] = {}
    for a in cloud.store.all("SELECT * FROM route_table_associations ORDER BY association_id"):
        found = Association(
            a["association_id"], a["route_table_id"], a["subnet_id"], bool(a["main"])
        )
        assocs.setdefault(a["route_table_id"], []).append(found)
    all_tags = tags.for_resources(cloud, (r["route_table_id"] for r in rows))
    return [
        RouteTable(
            r["route_table_id"],
            r["vpc_id"],
            tuple(sorted(routes.get(r["route_table_id"], []), key=_route_order)),
            tuple(assocs.get(r["route_table_id"], [])),
            all_tags[r["route_table_id"]],
        )
        for r in rows
    ]


def _route_order(route: Route) -> tuple[bool, int, str]:
    """Local route first, then the most specific destination, as the console lists them."""
    net = ipaddress.ip_network(route.destination)
    return (route.gateway_id != LOCAL, -net.prefixlen, route.destination)


def require_table(cloud: Cloud, table_id: str) -> RouteTable:
    """One table; InvalidRouteTableID.NotFound if absent."""
    found = _load(cloud, [table_id])
    if not found:
        raise ClientError(
            "InvalidRouteTableID.NotFound", f"The routeTable ID '{table_id}' does not exist"
        )
    return found[0]


def describe_route_tables(
    cloud: Cloud,
    table_ids: Sequence[str],
    flts: Sequence[filters.Filter],
    max_results: int | None,
    next_token: str | None,
) -> tuple[list[RouteTable], str | None]:
    """DescribeRouteTables: every id asked for must exist; filters; pagination (5-100)."""
    filters.check_filter_names(flts, TABLE_FILTERS)
    tables = _load(cloud)
    if table_ids:
        known = {t.route_table_id for t in tables}
        for table_id in table_ids:
            if table_id not in known:
                require_table(cloud, table_id)
        tables = [t for t in tables if t.route_table_id in table_ids]
    chosen = [t for t in tables if filters.matches(flts, partial(_fields, cloud, t))]
    return filters.paginate(
        chosen, lambda t: t.route_table_id, max_results, next_token, bounds=(5, 100)
    )


def _fields(cloud: Cloud, table: RouteTable, name: str) -> list[str] | None:
    assocs, routes = table.associations, table.routes
    own = {
        "association.gateway-id": [],
        "association.route-table-association-id": [a.association_id for a in assocs],
        "association.route-table-id": [a.route_table_id for a in assocs],
        "association.subnet-id": [a.subnet_id for a in assocs if a.subnet_id],
        "association.main": [str(a.main).lower() for a in assocs],
        "owner-id": [cloud.account_id],
        "route-table-id": [table.route_table_id],
        "route.destination-cidr-block": [r.destination for r in routes],
        "route.gateway-id": [r.gateway_id for r in routes],
        "route.origin": [r.origin for r in routes],
        "route.state": [r.state for r in routes],
        "vpc-id": [table.vpc_id],
    }.get(name)
    if own is not None:
        return own
    if name in TABLE_FILTERS:  # a target or destination kind pocketcloud has not
        return []
    return filters.tag_fields(name, table.tags)


# --- tables --------------------------------------------------------------------------------


def insert_table(cloud: Cloud, vpc_id: str, table_tags: Mapping[str, str]) -> str:
    """Record a new table with the VPC's local route (inside a transaction)."""
    vpc = network.require_vpc(cloud, vpc_id)
    table_id = ids.ec2_id("rtb")
    cloud.store.execute(
        "INSERT INTO route_tables(route_table_id, vpc_id) VALUES(?, ?)", (table_id, vpc_id)
    )
    _insert_route(cloud, table_id, vpc.cidr, LOCAL)
    tags.apply(cloud, table_id, table_tags)
    return table_id


def create_main_table(cloud: Cloud, vpc_id: str, igw_id: str | None = None) -> str:
    """A new VPC's main route table: the local route, and 0.0.0.0/0 to ``igw_id`` if given."""
    table_id = insert_table(cloud, vpc_id, {})
    if igw_id is not None:
        _insert_route(cloud, table_id, "0.0.0.0/0", igw_id)
    cloud.store.execute(
        "INSERT INTO route_table_associations(association_id, route_table_id, subnet_id, main) "
        "VALUES(?, ?, NULL, 1)",
        (ids.ec2_id("rtbassoc"), table_id),
    )
    return table_id


def _insert_route(cloud: Cloud, table_id: str, destination: str, gateway_id: str) -> None:
    cloud.store.execute(
        "INSERT INTO routes(route_table_id, destination, gateway_id) VALUES(?, ?, ?)",
        (table_id, destination, gateway_id),
    )


def create_route_table(
    cloud: Cloud, vpc_id: str, table_tags: Mapping[str, str], client_token: str | None
) -> RouteTable:
    """CreateRouteTable: a table with the local route, associated with nothing.

    A repeated ClientToken answers the table it made (remembered while the server runs);
    the same token for another VPC is IdempotentParameterMismatch.
    """
    tags.validate(table_tags)
    made: dict[str, tuple[str, str]] = cloud.caches.setdefault("routing.client_tokens", {})
    with cloud.store.transaction():
        earlier = made.get(client_token) if client_token else None
        if earlier is not None and cloud.store.one(
            "SELECT 1 FROM route_tables WHERE route_table_id = ?", (earlier[1],)
        ):
            if earlier[0] != vpc_id:
                raise ClientError(
                    "IdempotentParameterMismatch",
                    f"The client token {client_token} was used for a route table of another VPC",
                )
            return require_table(cloud, earlier[1])
        table_id = insert_table(cloud, vpc_id, table_tags)
    if client_token:
        made[client_token] = (vpc_id, table_id)
    return require_table(cloud, table_id)


def delete_route_table(cloud: Cloud, table_id: str) -> None:
    """DeleteRouteTable: refused for a main table and while subnets are associated."""
    with cloud.store.transaction():
        table = require_table(cloud, table_id)
        if table.associations:
            what = (
                "the main route table"
                if any(a.main for a in table.associations)
                else ("associated with " + ", ".join(str(a.subnet_id) for a in table.associations))
            )
            raise ClientError(
                "DependencyViolation",
                f"The routeTable '{table_id}' has dependencies and cannot be deleted ({what}).",
            )
        cloud.store.execute("DELETE FROM route_tables WHERE route_table_id = ?", (table_id,))
        cloud.store.execute("DELETE FROM tags WHERE resource_id = ?", (table_id,))
    cloud.wake()


def delete_vpc_tables(cloud: Cloud, vpc_id: str) -> None:
    """Remove a VPC's main table with its association (inside DeleteVpc's transaction)."""
    for row in cloud.store.all(
        "SELECT route_table_id FROM route_tables WHERE vpc_id = ?", (vpc_id,)
    ):
        table_id = row["route_table_id"]
        cloud.store.execute(
            "DELETE FROM route_table_associations WHERE route_table_id = ?", (table_id,)
        )
        cloud.store.execute("DELETE FROM route_tables WHERE route_table_id = ?", (table_id,))
        cloud.store.execute("DELETE FROM tags WHERE resource_id = ?", (table_id,))


def non_main_tables(cloud: Cloud, vpc_id: str) -> list[str]:
    """The VPC's tables other than its main one."""
    rows = cloud.store.all(
        "SELECT route_table_id FROM route_tables WHERE vpc_id = ? AND route_table_id NOT IN "
        "(SELECT route_table_id FROM route_table_associations WHERE main = 1)",
        (vpc_id,),
    )
    return [r["route_table_id"] for r in rows]


# --- routes --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    """What a CreateRoute/ReplaceRoute call names: a destination and its target ids."""

    destination: str | None
    gateway_id: str | None
    #: other target kinds the call named (NatGatewayId, InstanceId...): unsupported
    others: tuple[str, ...] = ()


def _destination(destination: str | None) -> str:
    """The route's destination as a normalized IPv4 CIDR."""
    if not destination:
        raise MissingParameter("The request must contain the parameter destinationCidrBlock")
    try:
        net = ipaddress.IPv4Network(destination)
    except ValueError as exc:
        raise InvalidParameterValue(
            f"Value ({destination}) for parameter destinationCidrBlock is invalid. "
            "This is not a valid CIDR block."
        ) from exc
    return str(net)


def _gateway_for(cloud: Cloud, table: RouteTable, destination: str, target: Target) -> str:
    if target.others:
        raise ClientError(
            "UnsupportedOperation",
            f"pocketcloud routes only to internet gateways; {', '.join(target.others)} "
            "is not supported",
        )
    if not target.gateway_id:
        raise MissingParameter(
            "The request must contain exactly one of gatewayId, natGatewayId, "
            "networkInterfaceId, vpcPeeringConnectionId, transitGatewayId or instanceId"
        )
    gateway = gateways.require_gateway(cloud, target.gateway_id)
    if gateway.vpc_id != table.vpc_id:
        raise InvalidParameterValue(
            f"route table {table.route_table_id} and network gateway {gateway.igw_id} "
            "belong to different networks"
        )
    vpc = network.require_vpc(cloud, table.vpc_id)
    if ipaddress.IPv4Network(destination).subnet_of(ipaddress.IPv4Network(vpc.cidr)):
        raise InvalidParameterValue(
            f"The destination CIDR block {destination} is equal to or more specific than one "
            f"of this VPC's CIDR blocks ({vpc.cidr}). This route can target only an interface "
            "or an instance."
        )
    return gateway.igw_id


def _existing(table: RouteTable, destination: str) -> Route:
    for route in table.routes:
        if route.destination == destination:
            return route
    raise ClientError(
        "InvalidRoute.NotFound",
        f"no route with destination-cidr-block {destination} in route table {table.route_table_id}",
    )


def create_route(cloud: Cloud, table_id: str, target: Target) -> None:
    """CreateRoute: a route to an internet gateway attached to the table's VPC; wakes."""
    with cloud.store.transaction():
        table = require_table(cloud, table_id)
        destination = _destination(target.destination)
        if any(r.destination == destination for r in table.routes):
            raise ClientError(
                "RouteAlreadyExists",
                f"The route identified by {destination} already exists.",
            )
        _insert_route(cloud, table_id, destination, _gateway_for(cloud, table, destination, target))
    cloud.wake()


def replace_route(cloud: Cloud, table_id: str, target: Target) -> None:
    """ReplaceRoute: point an existing route at another gateway (never the local route)."""
    with cloud.store.transaction():
        table = require_table(cloud, table_id)
        destination = _destination(target.destination)
        if _existing(table, destination).gateway_id == LOCAL:
            raise InvalidParameterValue(
                f"cannot replace local route {destination} in route table {table_id}"
            )
        gateway_id = _gateway_for(cloud, table, destination, target)
        cloud.store.execute(
            "UPDATE routes SET gateway_id = ? WHERE route_table_id = ? AND destination = ?",
            (gateway_id, table_id, destination),
        )
    cloud.wake()


def delete_route(cloud: Cloud, table_id: str, destination: str | None) -> None:
    """DeleteRoute: InvalidRoute.NotFound for a missing route; the local route stays."""
    with cloud.store.transaction():
        table = require_table(cloud, table_id)
        wanted = _destination(destination)
        if _existing(table, wanted).gateway_id == LOCAL:
            raise InvalidParameterValue(
                f"cannot remove local route {wanted} in route table {table_id}"
            )
        cloud.store.execute(
            "DELETE FROM routes WHERE route_table_id = ? AND destination = ?", (table_id, wanted)
        )
    cloud.wake()
