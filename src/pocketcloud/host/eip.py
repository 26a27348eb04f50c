"""Elastic IPs in the kernel: destination NAT to the associated instance.

One ``ip`` table per cloud (``<prefix>_eip``) maps each associated public address to
its instance's private address, for packets from the host (``output``) and from
instances (``prerouting``)::

    map targets { 198.18.0.1 : 10.0.0.4, ... }
    prerouting / output:  ip daddr <pool> dnat to ip daddr map @targets
    postrouting:          ct status dnat ip saddr . ip daddr @hairpin masquerade

The hairpin set ({ 10.0.0.4 . 10.0.0.4, ... }) lets an instance reach itself through its
own Elastic IP: without the source translation its reply would carry its own address as
the source, which its kernel drops as a martian.

Routes (protocol 99, like the VPC's): a /32 per associated address towards its
instance's veth (the host looks the route up before ``output`` translates the
address), and an ``unreachable`` route for the whole pool, so that an address nobody
holds fails at once instead of leaving the machine. The firewall's filter chains run
after the translation: an instance's ingress rules see its private address, so its
security groups apply to traffic through its Elastic IP as to any other.

``render_table`` and ``render_routes`` are pure; ``apply``, ``routes``, ``listing``
and ``remove`` run ``nft``/``ip`` and need CAP_NET_ADMIN.
"""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from pocketcloud.host.run import output, run

#: marks our routes (the same unassigned rt_protos number as the VPC's routes)
PROTO = "99"
UNREACHABLE = "unreachable"


@dataclass(frozen=True)
class Binding:
    """One associated address: where the kernel sends it."""

    public_ip: str
    private_ip: str
    veth: str  # the instance's host-side veth
    #: the veth's ifindex: a veth made again (a restart) has a new one, and the route
    #: that died with the old veth must be added again
    link: int = 0


@dataclass(frozen=True)
class Model:
    """Everything the table and the routes are rendered from."""

    prefix: str
    pool: str
    bindings: tuple[Binding, ...] = ()


def table(prefix: str) -> str:
    """The cloud's Elastic IP table."""
    return f"{prefix}_eip"


def render_table(model: Model) -> str:
    """The whole table, replacing any previous version in one transaction (pure)."""
    name = table(model.prefix)
    pairs = ", ".join(f"{b.public_ip} : {b.private_ip}" for b in sorted(model.bindings, key=_ip))
    lines = [f"table ip {name}", f"delete table ip {name}", f"table ip {name} {{"]
    lines += ["  map targets {", "    type ipv4_addr : ipv4_addr"]
    if pairs:
        lines.append(f"    elements = {{ {pairs} }}")
    lines += ["  }", "  set hairpin {", "    type ipv4_addr . ipv4_addr"]
    loops = ", ".join(sorted({f"{b.private_ip} . {b.private_ip}" for b in model.bindings}))
    if loops:
        lines.append(f"    elements = {{ {loops} }}")
    lines.append("  }")
    for hook in ("prerouting", "output"):
        lines += [
            f"  chain {hook} {{",
            f"    type nat hook {hook} priority -100; policy accept;",  # dstnat
            f"    ip daddr {model.pool} dnat to ip daddr map @targets",
            "  }",
        ]
    lines += [
        "  chain postrouting {",
        "    type nat hook postrouting priority 100; policy accept;",  # srcnat
        "    ct status dnat ip saddr . ip daddr @hairpin masquerade",
        "  }",
    ]
    return "\n".join([*lines, "}", ""])


def _ip(binding: Binding) -> ipaddress.IPv4Address:
    return ipaddress.IPv4Address(binding.public_ip)


#: the pool's routes as the kernel lists them: destination → device, or "unreachable"
Routes = Mapping[str, str]


def wanted_routes(model: Model) -> dict[str, str]:
    """The routes the model asks for, in the form ``routes`` lists them (pure)."""
    out = {model.pool: UNREACHABLE}
    out |= {f"{b.public_ip}/32": b.veth for b in model.bindings}
    return out


def render_routes(model: Model, present: Routes) -> str:
    """An ``ip -batch`` script turning the pool's ``present`` routes into the model's:
    routes no longer wanted deleted, changed ones replaced in place (a moved address
    never falls into the unreachable route meanwhile); "" if nothing differs (pure)."""
    wanted = wanted_routes(model)
    lines = [f"route del {dst} proto {PROTO}" for dst in sorted(present) if dst not in wanted]
    for dst, how in sorted(wanted.items()):
        if present.get(dst) != how:
            target = f"{UNREACHABLE} {dst}" if how == UNREACHABLE else f"{dst} dev {how}"
            lines.append(f"route replace {target} proto {PROTO}")
    return "\n".join(lines) + "\n" if lines else ""


def _key(dst: str) -> str:
    return dst if "/" in dst else f"{dst}/32"


def routes(pool: str) -> dict[str, str]:
    """Our routes inside the pool, as the kernel has them now (runs ``ip route``)."""
    listed = json.loads(output(["ip", "-j", "route", "show", "root", pool, "proto", PROTO]) or "[]")
    return {
        _key(r["dst"]): UNREACHABLE if r.get("type") == UNREACHABLE else str(r.get("dev", ""))
        for r in listed
    }


def links(veths: list[str]) -> dict[str, int]:
    """The ifindex of each veth that exists (reads /sys/class/net; no command). A veth
    being deleted can fail the read with EINVAL or ENODEV: it counts as gone."""
    found = {}
    for veth in veths:
        try:
            found[veth] = int(Path(f"/sys/class/net/{veth}/ifindex").read_text())
        except (OSError, ValueError):
            continue
    return found


def apply(model: Model) -> None:
    """Load the table (one nft transaction), then bring the pool's routes to the model
    (one ``ip -batch``). The table goes first: a new route never leads to an address
    that is not translated yet. HostError if either refuses. Needs root."""
    run(["nft", "-f", "-"], input=render_table(model).encode())
    script = render_routes(model, routes(model.pool))
    if script:
        run(["ip", "-batch", "-"], input=script.encode())


def listing(prefix: str) -> str:
    """The table as the kernel has it now ("" if absent). Runs ``nft list``."""
    result = run(["nft", "list", "table", "ip", table(prefix)], check=False)
    return result.stdout.decode() if result.returncode == 0 else ""


def remove(prefix: str, pool: str) -> list[str]:
    """Delete the table and every route of ours inside the pool; returns what it removed.
    Idempotent. Needs root."""
    removed = []
    if run(["nft", "delete", "table", "ip", table(prefix)], check=False).returncode == 0:
        removed.append(f"nft table {table(prefix)}")
    for dst in routes(pool):
        run(["ip", "route", "del", dst, "proto", PROTO], check=False)
        removed.append(f"route {dst}")
    return removed
