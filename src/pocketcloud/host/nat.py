"""Outbound NAT for a cloud's instances: one nft table per cloud, named by its prefix.

Traffic from any of the cloud's VPCs to anywhere but its VPCs leaves with the host's
address (masquerade), so instances reach what the host reaches; which instances may
send such traffic at all is decided by their policy rules (``pocketcloud.host.network``).
The set ``vpcs`` holds every VPC CIDR of the cloud, and there is one rule per CIDR::

    ip saddr <vpc cidr> ip daddr != @vpcs masquerade

Runs ``nft``; needs CAP_NET_ADMIN.
"""

from __future__ import annotations

from collections.abc import Sequence

from pocketcloud.host.run import run


def table(prefix: str) -> str:
    """The cloud's NAT table name."""
    return f"{prefix}_nat"


def ruleset(prefix: str, cidrs: Sequence[str]) -> str:
    """The whole table, replaced atomically on every apply (pure)."""
    name = table(prefix)
    wanted = sorted(set(cidrs))
    elements = f"    elements = {{ {', '.join(wanted)} }}\n" if wanted else ""
    rules = "".join(f"    ip saddr {cidr} ip daddr != @vpcs masquerade\n" for cidr in wanted)
    return (
        f"table ip {name}\n"
        f"delete table ip {name}\n"
        f"table ip {name} {{\n"
        "  set vpcs {\n"
        "    type ipv4_addr\n"
        "    flags interval\n"
        "    auto-merge\n"
        f"{elements}"
        "  }\n"
        "  chain postrouting {\n"
        "    type nat hook postrouting priority srcnat; policy accept;\n"
        f"{rules}"
        "  }\n"
        "}\n"
    )


def enable(prefix: str, cidrs: Sequence[str]) -> None:
    """Create or replace the cloud's NAT table for these VPC CIDRs (one nft transaction)."""
    run(["nft", "-f", "-"], input=ruleset(prefix, cidrs).encode())


def masqueraded(prefix: str) -> set[str] | None:
    """The CIDRs the loaded table masquerades (None: no table). Runs ``nft list``."""
    result = run(["nft", "list", "table", "ip", table(prefix)], check=False)
    if result.returncode != 0:
        return None
    found = set()
    for line in result.stdout.decode().splitlines():
        words = line.split()
        if words[:2] == ["ip", "saddr"] and "masquerade" in words:
            found.add(words[2])
    return found


def disable(prefix: str) -> bool:
    """Delete the cloud's NAT table; False if there was none."""
    result = run(["nft", "delete", "table", "ip", table(prefix)], check=False)
    return result.returncode == 0
