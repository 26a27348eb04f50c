"""The thin edge of ``explain reach``: gather the facts, read-only.

Reads the state directory's database (:class:`~pocketcloud.store.reader.StateReader`,
``mode=ro``), the kernel's firewall table (``nft list table``), the host's route
(``ip route get``), the instance's listening sockets (``ip netns exec … ss``) and nginx's
site file through the instance's root, and sends one request from the source (from an
instance: inside its network namespace). Changes nothing; needs root to look inside
instances.
"""

from __future__ import annotations

import ipaddress
import json
import re
from dataclasses import replace
from pathlib import Path
from typing import Any

from pocketcloud.config import Paths, load_settings
from pocketcloud.explain import sockets
from pocketcloud.explain.reach import probe, rules
from pocketcloud.explain.reach.facts import (
    HOST_ADDRESS,
    Instance,
    Listener,
    ReachFacts,
    RouteCheck,
    RuleCheck,
    Source,
)
from pocketcloud.host import firewall, runtime
from pocketcloud.host.run import run
from pocketcloud.store.reader import InstanceRecord, RuleRecord, StateReader

APP_TAG = "pocketcloud:app"


def _as_instance(found: InstanceRecord | None) -> Instance | None:
    """The stored instance as the layers see it."""
    if found is None:
        return None
    return Instance(
        found.instance_id,
        found.state,
        found.private_ip,
        found.vpc_id,
        found.group_ids,
        found.elastic_ip,
        found.tags.get(APP_TAG),
    )


def _instance(db: StateReader, instance_id: str) -> Instance | None:
    return _as_instance(db.instance(instance_id))


def _by_app(db: StateReader, app: str) -> Instance | None:
    """The app's instance: a running one first, else the newest."""
    found = db.instances_tagged(APP_TAG, app)
    return _instance(db, found[0]) if found else None


def _by_address(db: StateReader, address: str) -> Instance | None:
    """The instance with this private address (a live one first) or this Elastic IP."""
    found = db.instance_at(address)
    return _instance(db, found) if found else None


def _target(db: StateReader, target: str) -> Instance | None:
    """An instance id, an instance's address, or a deployed app's name."""
    if target.startswith("i-"):
        return _instance(db, target)
    try:
        ipaddress.ip_address(target)
    except ValueError:
        pass
    else:
        return _by_address(db, target)
    found = _by_app(db, target)
    recorded = _record(target).get("instance_id")
    if found is None and isinstance(recorded, str):  # deployed, but the tag is gone
        found = _instance(db, recorded)
        return replace(found, app=target) if found else None
    return found


def _record(app: str) -> dict[str, Any]:
    """The app's record on this machine ({} if none): its names and instance."""
    from pocketcloud.deploy.apps import apps_dir  # noqa: PLC0415

    try:
        found = json.loads((apps_dir() / f"{app}.json").read_text())
    except (OSError, ValueError):
        return {}
    return found if isinstance(found, dict) else {}


def default_port(target: str) -> int:
    """The port an app answers on: 8080 when deployed with runserver, else 80 (reads the
    app's record on this machine)."""
    return 8080 if _record(target).get("mode") == "runserver" else 80


def _domain(app: str) -> str | None:
    """The first name of the app's record on this machine, if there is one."""
    names = _record(app).get("names") or []
    return str(names[0]) if names else None


def _source(db: StateReader, text: str | None) -> Source:
    """This host; an instance (by id, address or app name); else a CIDR outside. ValueError
    for anything else."""
    if text is None or text.lower() in ("host", "localhost", HOST_ADDRESS):
        return Source("host", "host", HOST_ADDRESS)
    if text.startswith("i-"):
        found = _instance(db, text)
        return Source("instance", text, found.private_ip if found else "", found)
    try:
        network = ipaddress.ip_network(text, strict=False)
    except ValueError:
        found = _by_app(db, text)
        if found is None:
            raise ValueError(f"{text!r} is no instance id, app, address or CIDR") from None
        return Source("instance", found.instance_id, found.private_ip, found)
    if network.num_addresses == 1:
        found = _by_address(db, str(network.network_address))
        if found is not None and found.private_ip == str(network.network_address):
            return Source("instance", found.instance_id, found.private_ip, found)
    return Source("cidr", str(network), str(network.network_address))


def _host_route(prefix: str, target: Instance) -> RouteCheck:
    veth = runtime.veth_name(prefix, target.instance_id)
    got = run(["ip", "-o", "route", "get", target.private_ip], check=False)
    line = got.stdout.decode().split("\\")[0].strip()
    dev = line.split(" dev ", 1)[1].split()[0] if " dev " in line else ""
    ev = (f"ip route get {target.private_ip}: {line or got.stderr.decode().strip()}",)
    if dev == veth:
        return RouteCheck(True, (*ev, f"via the instance's veth {veth}"))
    return RouteCheck(
        False,
        ev,
        f"this host has no route to {target.private_ip} through {veth}",
        "the instance's network is not set up: restart the cloud (`pocketcloud up`) so it "
        "repairs the instance's veth and route",
    )


def _route(prefix: str, source: Source, target: Instance, via_eip: bool) -> RouteCheck:
    if source.kind == "host":
        return _host_route(prefix, target)
    if source.kind == "cidr":
        return RouteCheck(
            None,
            (
                f"{source.text} is outside this machine: only this machine reaches instances "
                "(the cloud is on one box, instance addresses are not routed elsewhere)",
                "the rules below are evaluated as if a connection from it arrived",
            ),
            f"{source.text} cannot reach this machine's instances; rules evaluated as if",
        )
    return _instance_route(source, target, via_eip)


def _instance_route(source: Source, target: Instance, via_eip: bool) -> RouteCheck:
    """From another instance: it exists and runs, and is in the target's VPC (VPCs are
    isolated; flows to an Elastic IP cross them)."""
    src = source.instance
    if src is None:
        return RouteCheck(
            False,
            (f"no instance {source.text}",),
            f"{source.text} does not exist",
            "aws --profile pocketcloud ec2 describe-instances",
        )
    if src.state != "running":
        return RouteCheck(
            False,
            (f"{src.instance_id} is {src.state}",),
            f"the source {src.instance_id} is {src.state}",
            f"aws --profile pocketcloud ec2 start-instances --instance-ids {src.instance_id}",
        )
    ev = (f"{src.instance_id} in {src.vpc_id}, {target.instance_id} in {target.vpc_id}",)
    if src.vpc_id == target.vpc_id:
        return RouteCheck(True, (*ev, "same VPC: routed directly"))
    if via_eip:
        return RouteCheck(True, (*ev, f"to the Elastic IP {target.public_ip}: allowed across VPCs"))
    eip = (
        f"; its Elastic IP {target.public_ip} is reachable from other VPCs"
        if target.public_ip
        else ""
    )
    fix = (
        f"connect to the Elastic IP {target.public_ip} instead"
        if target.public_ip
        else f"launch the source in {target.vpc_id}, or give {target.instance_id} an Elastic IP "
        "(aws --profile pocketcloud ec2 allocate-address / associate-address)"
    )
    return RouteCheck(
        False,
        (
            *ev,
            "VPCs are isolated: the firewall drops what one VPC's "
            "instances send to another's private addresses" + eip,
        ),
        f"{src.instance_id} and {target.instance_id} are in different VPCs",
        fix,
    )


def _owner(
    line: str, stored: tuple[RuleRecord, ...], direction: str
) -> tuple[str | None, str | None]:
    """The stored rule the kernel's line was rendered from: (group id, rule id)."""
    for rule in stored:
        rendered = firewall.render_rule(
            firewall.Rule(
                rule.protocol, rule.from_port, rule.to_port, rule.cidr_ipv4, rule.ref_group_id
            ),
            direction,
        )
        if rules.same_rule(rendered, line):
            return rule.group_id, rule.rule_id
    return None, None


def _check(
    db: StateReader, table: rules.Table, who: Instance, packet: rules.Packet, kind: str
) -> RuleCheck:
    chain = f"{kind}_{who.instance_id.replace('-', '_')}"
    if chain not in table.chains:
        return RuleCheck(False, False, chain=chain)
    found = rules.first_match(table.chains[chain], packet, table.sets)
    if found is None or found[1] == "drop":
        return RuleCheck(True, False, chain=chain)
    stored = db.ipv4_rules(who.group_ids, kind == "out")
    group_id, rule_id = _owner(found[0], stored, kind)
    return RuleCheck(True, True, found[0], group_id, rule_id, chain)


def parse_ss(text: str) -> tuple[Listener, ...]:
    """``ss -Hltnp`` lines as listeners, the first process holding each (pure; the one
    ss parser is :func:`pocketcloud.explain.sockets.parse_ss`)."""
    return tuple(
        Listener(
            sock.address,
            sock.port,
            sock.processes[0][0] if sock.processes else "",
            sock.processes[0][1] if sock.processes else None,
        )
        for sock in sockets.parse_ss(text)
    )


def _command(pid: int | None) -> str:
    """A process's command line (from the host's /proc), "" if unreadable."""
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes() if pid else b""
    except OSError:
        return ""
    return raw.replace(b"\0", b" ").decode(errors="replace").strip()[:200]


def _listeners(netns: str) -> tuple[Listener, ...] | None:
    got = run(["ip", "netns", "exec", netns, "ss", "-Hltnp"], check=False)
    if got.returncode != 0:
        return None
    return tuple(replace(li, command=_command(li.pid)) for li in parse_ss(got.stdout.decode()))


def _upstream(listeners: tuple[Listener, ...], app: str | None) -> tuple[str | None, str]:
    """What nginx proxies the app to, read from its site file through nginx's root, and
    whether that socket exists (the other sockets beside it, if it does not)."""
    pids = [li.pid for li in listeners if li.process == "nginx" and li.pid]
    if not pids or not app:
        return None, ""
    root = Path(f"/proc/{pids[0]}/root")
    # sites-enabled holds an absolute symlink, which would resolve on the host: read the file
    site = root / f"etc/nginx/sites-available/pocketcloud-{app}.conf"
    try:
        found = re.search(r"server unix:(\S+?)[\s;]", site.read_text())
    except OSError:
        return None, ""
    if found is None:
        return None, ""
    path = root / found.group(1).lstrip("/")
    if path.is_socket():
        return f"unix:{found.group(1)}", "the socket exists, but nothing answers on it"
    others = sorted(str(p.relative_to(root)) for p in path.parent.glob("*.sock"))
    beside = f"; sockets there: /{', /'.join(others)}" if others else "; no socket there"
    return f"unix:{found.group(1)}", f"that socket does not exist{beside}"


def _netns(prefix: str, instance_id: str) -> str:
    return f"{prefix}-{instance_id[-8:]}"


def gather(root: Path, target: str, port: int, source: str | None) -> ReachFacts:
    """Every fact about one connection (reads the store, runs nft, ip, ss, one request)."""
    prefix = load_settings(Paths(root)).prefix
    with StateReader(Paths(root).database) as db:
        inst = _target(db, target)
        src = _source(db, source)
        if inst is None or inst.state != "running":
            return ReachFacts(target, port, src, inst)
        by_name = inst.app == target
        via_eip = target == inst.public_ip  # asked by its Elastic IP: connect to that
        dest = target if via_eip else inst.private_ip
        host = (_domain(inst.app) if inst.app and by_name else None) or dest
        route = _route(prefix, src, inst, via_eip)
        listed = run(["nft", "list", "table", "inet", firewall.table(prefix)], check=False)
        table = rules.parse_listing(listed.stdout.decode())
        address = src.address or HOST_ADDRESS
        ingress = _check(db, table, inst, rules.Packet(address, inst.private_ip, "tcp", port), "in")
        egress = None
        if src.instance is not None:
            packet = rules.Packet(address, inst.private_ip, "tcp", port)
            egress = _check(db, table, src.instance, packet, "out")
    listeners = _listeners(_netns(prefix, inst.instance_id))
    netns = _netns(prefix, src.instance.instance_id) if src.instance is not None else None
    checks = (route.ok is not False, *(c.admitted or not c.loaded for c in (ingress, egress) if c))
    # a request the firewall drops would only wait for its timeout: sent when it can pass
    answer = probe.send(dest, port, host, netns) if all(checks) else None
    upstream, note = _upstream(listeners or (), inst.app)
    return ReachFacts(
        target, port, src, inst, host, route, ingress, egress, listeners, answer, upstream, note
    )
