"""Instance networking: one netns and one routed veth pair per instance, no bridge.

Layout for an instance with address A (the host side is named ``<prefix><8hex>h``)::

    host:   <veth>  169.254.1.1/32, proxy_arp=1      route A/32 dev <veth>
            ip rule iif <veth> lookup main suppress_prefixlength 31   (pref 10500)
            ip rule iif <veth> unreachable                            (pref 10501)
    netns:  eth0 A/len, lo up, default via 169.254.1.1 dev eth0 onlink

proxy_arp lets an instance reach a neighbour of its own subnet (it ARPs for it; the host
answers and routes over the neighbour's /32). The two policy rules keep instance traffic
on this machine: packets arriving from an instance may only follow /32 routes (other
instances), never the host's default or LAN routes; everything else is unreachable.
Local addresses (the table ``local`` at pref 0) still work. An instance with outbound
access (``outbound=True``: the cloud has NAT on and the instance's subnet routes 0.0.0.0/0
to an attached internet gateway) gets no such rules: it follows the host's routes and the
cloud's masquerade rule (``pocketcloud.host.nat``) gives it the host's address. The rules
of a running instance are added or removed as that changes (``set_outbound``).

Every function runs ``ip``/``sysctl`` and needs CAP_NET_ADMIN (root).
"""

from __future__ import annotations

import contextlib
import re
from pathlib import Path

from pocketcloud.host.run import output, run

GATEWAY = "169.254.1.1"
RULE_PREF = 10500
NETNS_DIR = Path("/run/netns")
# sysctls set in each instance netns from the host side (the netns belongs to the host's
# user namespace, so root inside the instance cannot set them): sshd binds 22 as a
# namespaced root, and ping works through ICMP datagram sockets without CAP_NET_RAW.
NETNS_SYSCTLS = ("net.ipv4.ip_unprivileged_port_start=0", "net.ipv4.ping_group_range=0 2147483647")


def enable_forwarding() -> None:
    """Set net.ipv4.ip_forward=1 on the host (needed between instances); needs root."""
    Path("/proc/sys/net/ipv4/ip_forward").write_text("1\n")


def create(
    netns: str,
    veth: str,
    address: str,
    prefix_len: int,
    alias: str,
    outbound: bool = False,
    mac: str | None = None,
) -> None:
    """Create the netns, the veth pair, the /32 route and the policy rules; needs root.

    ``alias`` (the instance id) is kept as the host veth's ifalias, so that an orphaned
    veth still tells which instance it belonged to.
    """
    run(["ip", "netns", "add", netns])
    peer = ["name", "eth0", *(["address", mac] if mac else []), "netns", netns]
    run(["ip", "link", "add", veth, "type", "veth", "peer", *peer])
    run(["ip", "link", "set", veth, "alias", alias])
    # inside first: once the host's /32 route exists, both ends must already be up, or the
    # host's first SYN to the instance is dropped and TCP waits a second to resend it
    _setup_inside(netns, address, prefix_len)
    _setup_host_side(veth, address, outbound)


def _setup_host_side(veth: str, address: str, outbound: bool) -> None:
    """Gateway address, proxy ARP, link up, /32 route, policy rules."""
    Path(f"/proc/sys/net/ipv4/conf/{veth}/proxy_arp").write_text("1\n")
    # answer proxied ARP at once (the default waits up to 0.8 s: a first connection
    # between two instances would then often take a second)
    Path(f"/proc/sys/net/ipv4/neigh/{veth}/proxy_delay").write_text("0\n")
    Path(f"/proc/sys/net/ipv6/conf/{veth}/disable_ipv6").write_text("1\n")
    run(["ip", "addr", "add", f"{GATEWAY}/32", "dev", veth])
    run(["ip", "link", "set", veth, "up"])
    run(["ip", "route", "replace", f"{address}/32", "dev", veth])
    if not outbound:
        _add_rules(veth)


#: the rules that keep an instance's traffic on this machine, by preference
RULES = {
    RULE_PREF: ("lookup", "main", "suppress_prefixlength", "31"),
    RULE_PREF + 1: ("unreachable",),
}


def _add_rules(veth: str) -> None:
    batch = "".join(
        f"rule add pref {pref} iif {veth} {' '.join(action)}\n" for pref, action in RULES.items()
    )
    run(["ip", "-batch", "-"], input=batch.encode())


def set_outbound(veth: str, outbound: bool) -> None:
    """Let a (running) instance's traffic leave the machine, or keep it here: removes or
    (re)adds its two policy rules, without touching anything else; needs root."""
    delete_rules(veth)
    if not outbound:
        _add_rules(veth)


def outbound_states(pattern: str) -> dict[str, bool | None]:
    """For each veth matching the regex that has policy rules: False when it has exactly
    the rules that keep it on this machine, None when it has some other set. A veth
    without any rule is absent (it has outbound access, or does not exist). Runs ``ip``."""
    prefs: dict[str, set[int]] = {}
    for line in output(["ip", "rule", "show"]).splitlines():
        words = line.split()
        if "iif" in words and re.fullmatch(pattern, words[words.index("iif") + 1]):
            prefs.setdefault(words[words.index("iif") + 1], set()).add(int(words[0].rstrip(":")))
    return {veth: (False if found == set(RULES) else None) for veth, found in prefs.items()}


def _setup_inside(netns: str, address: str, prefix_len: int) -> None:
    """eth0 address and default route, lo up, the namespace's sysctls."""
    batch = "\n".join(
        [
            "link set lo up",
            f"addr add {address}/{prefix_len} dev eth0",
            "link set eth0 up",
            f"route add default via {GATEWAY} dev eth0 onlink",
            "",
        ]
    )
    run(["ip", "-n", netns, "-batch", "-"], input=batch.encode())
    run(["ip", "netns", "exec", netns, "sysctl", "-q", "-w", *NETNS_SYSCTLS])


def delete(netns: str, veth: str) -> list[str]:
    """Remove the veth (and with it the /32 route), its rules and the netns; needs root.

    Idempotent; returns what it removed. The veth goes first and explicitly: deleting
    only the netns would destroy the pair asynchronously, after this returns.
    """
    removed = []
    if veth in veths_matching(re.escape(veth)):
        run(["ip", "link", "del", veth])
        removed.append(f"veth {veth}")
    removed += [f"rule {rule}" for rule in delete_rules(veth)]
    if netns in list_netns():
        run(["ip", "netns", "del", netns])
        removed.append(f"netns {netns}")
    return removed


def delete_rules(veth: str) -> list[str]:
    """Delete every policy rule whose iif is this veth; returns their descriptions."""
    removed = []
    for line in output(["ip", "rule", "show", "iif", veth]).splitlines():
        pref, _, rest = line.partition(":")
        run(["ip", "rule", "del", "pref", pref.strip(), "iif", veth])
        removed.append(f"{pref.strip()}: {rest.strip()}")
    return removed


def list_netns() -> list[str]:
    """Names of the named network namespaces (reads /run/netns)."""
    with contextlib.suppress(FileNotFoundError):
        return sorted(entry.name for entry in NETNS_DIR.iterdir())
    return []


def veths_matching(pattern: str) -> dict[str, str]:
    """Host interfaces whose whole name matches the regex → their alias (runs ``ip``)."""
    found = {}
    for line in output(["ip", "-o", "link", "show"]).splitlines():
        name = line.split(":", 2)[1].strip().split("@", 1)[0]
        if re.fullmatch(pattern, name):
            words = line.replace("\\", " ").split()
            found[name] = words[words.index("alias") + 1] if "alias" in words else ""
    return found


def rule_iifs_matching(pattern: str) -> list[str]:
    """Input interfaces named by policy rules, whose whole name matches (runs ``ip``)."""
    found = set()
    for line in output(["ip", "rule", "show"]).splitlines():
        words = line.split()
        if "iif" in words:
            name = words[words.index("iif") + 1]
            if re.fullmatch(pattern, name):
                found.add(name)
    return sorted(found)
