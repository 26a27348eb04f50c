"""Which subnets may reach beyond this machine, decided from the stored VPC state.

An instance reaches the outside only when the cloud has outbound NAT on and its
subnet's effective route table (the subnet's explicit association, else its VPC's
main table) routes ``0.0.0.0/0`` to an internet gateway attached to that VPC, as on
AWS. A route to a detached or deleted gateway is a blackhole: no outbound. The host
applies the answer as each instance's policy rules (``pocketcloud.host.network``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from pocketcloud.services.context import Cloud

DEFAULT_ROUTE = "0.0.0.0/0"


@dataclass(frozen=True)
class Topology:
    """The parts of the stored VPC state that decide outbound access."""

    subnets: Mapping[str, str]  # subnet id → its VPC
    main_tables: Mapping[str, str]  # VPC → its main route table
    associations: Mapping[str, str]  # subnet id → its explicitly associated route table
    default_routes: Mapping[str, str]  # route table → the target of its 0.0.0.0/0 route
    attached: Mapping[str, str]  # internet gateway → the VPC it is attached to


def effective_table(topology: Topology, subnet_id: str) -> str | None:
    """The route table a subnet uses: its own association, else its VPC's main (pure)."""
    explicit = topology.associations.get(subnet_id)
    if explicit is not None:
        return explicit
    vpc_id = topology.subnets.get(subnet_id)
    return None if vpc_id is None else topology.main_tables.get(vpc_id)


def has_route_out(topology: Topology, subnet_id: str) -> bool:
    """Whether the subnet routes 0.0.0.0/0 to an internet gateway attached to its VPC (pure)."""
    table = effective_table(topology, subnet_id)
    target = None if table is None else topology.default_routes.get(table)
    vpc_id = topology.subnets.get(subnet_id)
    return target is not None and vpc_id is not None and topology.attached.get(target) == vpc_id


def outbound_subnets(topology: Topology, nat: bool) -> frozenset[str]:
    """The subnets whose instances may reach beyond this machine (pure)."""
    if not nat:
        return frozenset()
    return frozenset(s for s in topology.subnets if has_route_out(topology, s))


def load(cloud: Cloud) -> Topology:
    """The topology as stored now (reads the store)."""
    store = cloud.store
    associations = store.all(
        "SELECT a.route_table_id, a.subnet_id, a.main, t.vpc_id "
        "FROM route_table_associations a JOIN route_tables t USING (route_table_id)"
    )
    routes = store.all(
        "SELECT route_table_id, gateway_id FROM routes WHERE destination = ?", (DEFAULT_ROUTE,)
    )
    gateways = store.all("SELECT igw_id, vpc_id FROM internet_gateways WHERE vpc_id IS NOT NULL")
    return Topology(
        subnets={r["subnet_id"]: r["vpc_id"] for r in store.all("SELECT * FROM subnets")},
        main_tables={r["vpc_id"]: r["route_table_id"] for r in associations if r["main"]},
        associations={
            r["subnet_id"]: r["route_table_id"] for r in associations if r["subnet_id"] is not None
        },
        default_routes={r["route_table_id"]: r["gateway_id"] for r in routes},
        attached={r["igw_id"]: r["vpc_id"] for r in gateways},
    )


def subnets_with_outbound(cloud: Cloud) -> frozenset[str]:
    """The subnets of the cloud whose instances may reach beyond this machine (reads the store)."""
    return outbound_subnets(load(cloud), cloud.settings.nat)


def has_outbound(cloud: Cloud, subnet_id: str) -> bool:
    """Whether instances of this subnet may reach beyond this machine (reads the store)."""
    return subnet_id in subnets_with_outbound(cloud)
