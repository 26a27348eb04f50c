"""Which subnets reach beyond the machine: route tables and internet gateways (pure)."""

from __future__ import annotations

from dataclasses import replace

from pocketcloud.reconcile.outbound import Topology, effective_table, outbound_subnets

# vpc-a: public subnet via the main table, private subnet with its own table (no route out)
# vpc-b: its main table routes 0.0.0.0/0 to vpc-a's gateway (not attached to vpc-b)
BASE = Topology(
    subnets={"subnet-pub": "vpc-a", "subnet-priv": "vpc-a", "subnet-b": "vpc-b"},
    main_tables={"vpc-a": "rtb-main-a", "vpc-b": "rtb-main-b"},
    associations={"subnet-priv": "rtb-priv"},
    default_routes={"rtb-main-a": "igw-a", "rtb-main-b": "igw-a"},
    attached={"igw-a": "vpc-a"},
)


class TestEffectiveTable:
    def test_explicit_association_wins(self) -> None:
        """A subnet with its own association uses that table, others their VPC's main."""
        assert effective_table(BASE, "subnet-priv") == "rtb-priv"
        assert effective_table(BASE, "subnet-pub") == "rtb-main-a"

    def test_unknown_subnet(self) -> None:
        """A subnet the store does not know has no table."""
        assert effective_table(BASE, "subnet-gone") is None


class TestOutboundSubnets:
    def test_route_to_attached_gateway(self) -> None:
        """Only a subnet whose table routes 0.0.0.0/0 to a gateway attached to its own
        VPC has outbound access; a route to another VPC's gateway does not count."""
        assert outbound_subnets(BASE, nat=True) == {"subnet-pub"}

    def test_nat_off(self) -> None:
        """Without the cloud's NAT nothing leaves the machine, routes or not."""
        assert outbound_subnets(BASE, nat=False) == frozenset()

    def test_gateway_detached(self) -> None:
        """A route to a detached gateway is a blackhole: no outbound."""
        assert outbound_subnets(replace(BASE, attached={}), nat=True) == frozenset()

    def test_route_added_to_private_table(self) -> None:
        """Adding the default route to the private subnet's table opens it too."""
        routes = {**BASE.default_routes, "rtb-priv": "igw-a"}
        topology = replace(BASE, default_routes=routes)
        assert outbound_subnets(topology, nat=True) == {"subnet-pub", "subnet-priv"}

    def test_reassociation(self) -> None:
        """Associating the public subnet with the private table closes it; dropping the
        private subnet's association puts it on the main table, which opens it."""
        moved = replace(BASE, associations={"subnet-priv": "rtb-priv", "subnet-pub": "rtb-priv"})
        assert outbound_subnets(moved, nat=True) == frozenset()
        back = replace(BASE, associations={})
        assert outbound_subnets(back, nat=True) == {"subnet-pub", "subnet-priv"}

    def test_local_route_is_not_out(self) -> None:
        """A default route whose target is not an internet gateway gives no outbound."""
        topology = replace(BASE, default_routes={"rtb-main-a": "local"})
        assert outbound_subnets(topology, nat=True) == frozenset()
