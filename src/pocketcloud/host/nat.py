"""Outbound NAT for a cloud's instances: one nft table per cloud, named by its prefix.

Traffic from the VPC to anywhere but the VPC leaves with the host's address
(masquerade), so instances reach what the host reaches. Runs ``nft``; needs
CAP_NET_ADMIN.
"""

from __future__ import annotations

from pocketcloud.host.run import run


def table(prefix: str) -> str:
    """The cloud's NAT table name."""
    return f"{prefix}_nat"


def ruleset(prefix: str, cidr: str) -> str:
    """The whole table, replaced atomically on every apply (pure)."""
    name = table(prefix)
    return (
        f"table ip {name}\n"
        f"delete table ip {name}\n"
        f"table ip {name} {{\n"
        "  chain postrouting {\n"
        "    type nat hook postrouting priority srcnat; policy accept;\n"
        f"    ip saddr {cidr} ip daddr != {cidr} masquerade\n"
        "  }\n"
        "}\n"
    )


def enable(prefix: str, cidr: str) -> None:
    """Create or replace the cloud's NAT table (one nft transaction)."""
    run(["nft", "-f", "-"], input=ruleset(prefix, cidr).encode())


def disable(prefix: str) -> bool:
    """Delete the cloud's NAT table; False if there was none."""
    result = run(["nft", "delete", "table", "ip", table(prefix)], check=False)
    return result.returncode == 0
