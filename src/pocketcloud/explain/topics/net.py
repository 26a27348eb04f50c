"""``explain port``, ``listening`` and ``security-group`` on the user's own cloud (pure)."""

from __future__ import annotations

from pocketcloud.explain.sockets import Socket
from pocketcloud.explain.topics.common import (
    Out,
    address_of,
    joined,
    listing_sockets,
    meaning,
    peer,
    pem,
    process,
    rule_data,
    running,
    show_address,
    traffic,
    unseen,
)
from pocketcloud.explain.topics.facts import Group, Instance, TopicFacts


def _host_line(sock: Socket, facts: TopicFacts) -> tuple[str, dict[str, object]]:
    """Which of the cloud's own ports a host socket is, as a template key and values."""
    values: dict[str, object] = {
        "address": show_address(sock.address),
        "port": sock.port,
        "process": process(sock),
    }
    if sock.port == facts.cloud.imds_port:
        return "port.imds", values
    if sock.port == facts.cloud.api_port:
        loopback = sock.address.startswith("127.") or sock.address in ("0.0.0.0", "::")  # noqa: S104
        return ("port.api" if loopback else "port.api_gateway"), values
    return "port.other", values


def _host_sockets(out: Out, facts: TopicFacts) -> None:
    if not facts.cloud.sockets:
        return
    out.say("port.host", 1)
    for sock in facts.cloud.sockets:
        key, values = _host_line(sock, facts)
        out.say(key, 2, **values)
    out.data["host_sockets"] = [
        {"address": s.address, "port": s.port, "role": _host_line(s, facts)[0].split(".")[1]}
        for s in facts.cloud.sockets
    ]


def _instance_sockets(out: Out, facts: TopicFacts, port: int | None) -> list[Instance]:
    """Each instance's listening sockets (those on ``port`` only, if given); the running
    instances."""
    live = running(facts)
    for inst in out.cut(facts.instances, 2):
        why = unseen(facts, inst)
        if why is not None or inst.sockets is None:
            out.say(why or "listening.unread", 2, instance=inst.instance_id, state=inst.state)
            continue
        out.say("listening.instance", 2, instance=inst.instance_id, ip=address_of(inst))
        shown = [s for s in inst.sockets if port is None or s.port == port]
        if not shown:
            out.say("listening.nothing_on" if port else "listening.nothing", 3, port=port)
        for sock in shown:
            out.say(
                "listening.socket",
                3,
                address=show_address(sock.address),
                port=sock.port,
                process=process(sock),
                meaning=out.text(f"meaning.{meaning(sock, inst)}", address=sock.address),
            )
    out.data["instances"] = [
        {"instance_id": i.instance_id, "state": i.state, "sockets": listing_sockets(i)}
        for i in facts.instances
    ]
    return live


def _try_listing(out: Out, facts: TopicFacts, live: list[Instance]) -> None:
    if not live:
        return
    first = live[0]
    out.blank()
    out.say("try")
    out.say(
        "listening.try",
        1,
        pem=pem(first.key_name, facts),
        user=first.login_user,
        ip=address_of(first),
        netns=first.netns,
    )


def render_port(out: Out, facts: TopicFacts, port: int | None) -> None:
    """What a port is, then the ports listening on the instances and on this host."""
    out.say("port.body")
    if facts.cloud.status == "missing":
        return
    out.blank()
    out.say("now")
    out.say("port.instances", 1)
    for inst in out.cut(facts.instances, 2):
        _port_line(out, facts, inst, port)
    out.data["instances"] = [
        {"instance_id": i.instance_id, "state": i.state, "sockets": listing_sockets(i)}
        for i in facts.instances
    ]
    if not facts.instances:
        out.say("no_instances", 2)
    _host_sockets(out, facts)
    _try_listing(out, facts, running(facts))


def _port_line(out: Out, facts: TopicFacts, inst: Instance, port: int | None) -> None:
    """One instance's listening ports, each once with its program: ``22 sshd, 80 nginx``."""
    why = unseen(facts, inst)
    if why is not None or inst.sockets is None:
        out.say(why or "listening.unread", 2, instance=inst.instance_id, state=inst.state)
        return
    seen: dict[int, set[str]] = {}
    for sock in inst.sockets:
        if port is None or sock.port == port:
            seen.setdefault(sock.port, set()).update(name for name, _ in sock.processes)
    ports = ", ".join(f"{p} {'/'.join(sorted(seen[p])) or '?'}" for p in sorted(seen))
    nothing = out.text("listening.nothing_on", port=port) if port else out.text("listening.nothing")
    out.say(
        "port.instance", 2, instance=inst.instance_id, ip=address_of(inst), ports=ports or nothing
    )


def render_listening(out: Out, facts: TopicFacts, port: int | None) -> None:
    """What listening means and what the bound address decides, on the live sockets."""
    out.say("listening.body")
    if facts.cloud.status == "missing":
        return
    out.blank()
    out.say("now")
    out.say("port.instances", 1)
    live = _instance_sockets(out, facts, port)
    if not facts.instances:
        out.say("no_instances", 2)
    _host_sockets(out, facts)
    _try_listing(out, facts, live)


def pick_group(facts: TopicFacts, subject: str | None) -> Group | None:
    """The group to show rule by rule: the one named (id or name), else the first that
    guards an instance and admits something, else the first."""
    if subject:
        return next((g for g in facts.groups if subject in (g.group_id, g.name)), None)
    guarding = [g for g in facts.groups if g.instance_ids and any(not r.egress for r in g.rules)]
    candidates = guarding or list(facts.groups)
    return candidates[0] if candidates else None


def render_security_group(out: Out, facts: TopicFacts, subject: str | None) -> None:
    """What a security group is; the groups; one group's rules and its nft chain."""
    out.say("sg.body")
    if facts.cloud.status == "missing":
        return
    out.blank()
    out.say("now")
    if not facts.groups:
        out.say("sg.empty", 1)
        return
    out.say("sg.list", 1)
    for g in out.cut(facts.groups, 2):
        ingress = sum(1 for r in g.rules if not r.egress)
        out.say(
            "sg.summary",
            2,
            group=g.group_id,
            name=g.name,
            ingress=ingress,
            egress=len(g.rules) - ingress,
            instances=joined(g.instance_ids, out.text("sg.nobody")),
        )
    group = pick_group(facts, subject)
    if group is None:
        out.say("sg.unknown", 1, subject=subject)
        out.data["group"] = None
        return
    _group_detail(out, facts, group)


def _group_detail(out: Out, facts: TopicFacts, group: Group) -> None:
    out.blank()
    out.say("sg.detail", 1, group=group.group_id, name=group.name)
    for rule in group.rules:
        description = f"  ({rule.description})" if rule.description else ""
        out.say(
            "sg.rule",
            2,
            rule=rule.rule_id,
            direction=out.text("sg.out" if rule.egress else "sg.in"),
            traffic=traffic(out, rule),
            peer=out.text("sg.to" if rule.egress else "sg.from"),
            source=peer(out, rule),
            description=description,
        )
    out.data["group"] = {
        "group_id": group.group_id,
        "name": group.name,
        "instance_ids": list(group.instance_ids),
        "rules": [rule_data(group, r) for r in group.rules],
    }
    if not group.instance_ids:
        return
    instance = group.instance_ids[0]
    chain = "in_" + instance.replace("-", "_")
    lines = facts.chains.get(chain)
    out.data["chain"] = {"table": facts.cloud.table, "name": chain, "rules": list(lines or ())}
    if lines is None:
        out.say("sg.chain.missing", 1)
        return
    out.say("sg.chain", 1, table=facts.cloud.table, chain=chain, instance=instance)
    for line in lines:
        out.lines.append("    " + line)
    out.blank()
    out.say("try")
    out.say("sg.try", 1, group=group.group_id, table=facts.cloud.table, chain=chain)
