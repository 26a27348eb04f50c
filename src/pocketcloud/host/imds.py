"""Leading an instance's 169.254.169.254:80 to its cloud's metadata server.

The rule lives in the instance's own network namespace, which belongs to the
host's user namespace: root inside the instance cannot change it.
"""

from __future__ import annotations

from pocketcloud.host.run import run

METADATA_ADDRESS = "169.254.169.254"
TABLE = "pocketcloud_metadata"


def ruleset(gateway: str, port: int) -> str:
    """The nft ruleset for one instance (pure)."""
    return (
        f"table ip {TABLE} {{\n"
        "  chain output {\n"
        "    type nat hook output priority -100; policy accept;\n"
        f"    ip daddr {METADATA_ADDRESS} tcp dport 80 dnat to {gateway}:{port}\n"
        "  }\n"
        "}\n"
    )


def redirect(netns: str, gateway: str, port: int) -> None:
    """Install the redirect in ``netns`` (runs ``nft -f`` there; needs CAP_NET_ADMIN)."""
    run(["ip", "netns", "exec", netns, "nft", "-f", "-"], input=ruleset(gateway, port).encode())
