"""Why can't I connect? Walk every layer a connection crosses; name the first that blocks.

``explain(root, target, port, source)`` gathers the facts (:mod:`.gather`: the store
read-only, the kernel's firewall table, the instance's sockets, one real request) and
``decide`` turns them into a ``Report`` — pure: facts → layers → verdict. The layers,
in order: instance, route, security-group (the target's ingress), egress (the source
instance's), listener (who listens inside the instance), answer (what a request gets).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from pocketcloud.explain.reach import answers
from pocketcloud.explain.reach.facts import Listener, ReachFacts
from pocketcloud.explain.reach.report import Finding, Layer, Report, Verdict

WILDCARDS = ("0.0.0.0", "*", "[::]", "::")  # noqa: S104 (addresses a socket is bound to)


def explain(root: Path, target: str, port: int, source: str | None = None) -> Report:
    """Explain whether ``source`` (None: this host; an instance id; a CIDR) reaches
    ``target`` (an instance id or a deployed app's name) on TCP ``port``. Reads the
    state directory, the firewall table and the instance (runs ``nft``, ``ip``, ``ss``
    and one request from the source); changes nothing. Needs root to look inside."""
    from pocketcloud.explain.reach.gather import gather  # noqa: PLC0415 (the edge, loaded on use)

    return decide(gather(root, target, port, source))


def _instance(f: ReachFacts) -> Finding:
    i = f.instance
    if i is None:
        return (
            False,
            [f"no instance or app named {f.target!r} in this cloud"],
            f"{f.target} does not exist in this cloud",
            f"aws --profile {f.profile} ec2 describe-instances  (pick a running instance id)",
        )
    ev = [
        f"{i.instance_id}: {i.state}, private address {i.private_ip}"
        + (f", Elastic IP {i.public_ip}" if i.public_ip else "")
    ]
    ev += [f"app {i.app} (tag pocketcloud:app)"] if i.app else []
    if i.state == "running":
        return True, ev, "", None
    if i.state in ("stopped", "stopping"):
        fix = f"aws --profile {f.profile} ec2 start-instances --instance-ids {i.instance_id}"
        return False, ev, f"{i.instance_id} is {i.state}: nothing answers", fix
    if i.state == "pending":
        fix = f"aws --profile {f.profile} ec2 wait instance-running --instance-ids {i.instance_id}"
        return False, ev, f"{i.instance_id} is still starting", fix
    fix = f"aws --profile {f.profile} ec2 run-instances … (a terminated instance cannot be started)"
    return False, ev, f"{i.instance_id} is {i.state}: it is gone", fix


def _route(f: ReachFacts) -> Finding:
    r = f.route
    if r is None:
        return None, ["not checked"], "", None
    return r.ok, list(r.evidence), r.summary, r.fix


def _authorize(f: ReachFacts) -> str:
    assert f.instance is not None
    group = f.instance.group_ids[0] if f.instance.group_ids else "<group-id>"
    cidr = f.source.text if f.source.kind == "cidr" else f"{f.source.address}/32"
    return (
        f"aws --profile {f.profile} ec2 authorize-security-group-ingress --group-id {group}"
        f" --protocol tcp --port {f.port} --cidr {cidr}"
    )


def _rules(f: ReachFacts) -> Finding:
    c, i = f.ingress, f.instance
    assert i is not None
    peer = f.source.text if f.source.kind == "cidr" else f.source.address
    who = f"tcp/{f.port} from {peer}"
    if c is None or not c.loaded:
        missing = (
            f"{i.instance_id} has no chain in the loaded firewall table (reading it needs root)"
        )
        return None, [missing], "", None
    groups = ", ".join(i.group_ids) or "no group"
    if c.admitted:
        rule = f"{c.group_id} rule {c.rule_id}" if c.rule_id else "a rule"
        return (
            True,
            [
                f"{who} admitted by {rule}: `{c.line}` (chain {c.chain})",
                f"groups of {i.instance_id}: {groups}",
            ],
            "",
            None,
        )
    ev = [f"no rule of {groups} admits {who} (chain {c.chain} ends in drop)"]
    summary = f"no security group rule admits {who}"
    if f.listeners is not None and not any(li.port == f.port for li in f.listeners):
        ev.append(f"also: nothing listens on tcp/{f.port}; listening: {_ports(f.listeners)}")
        summary += f" (and nothing listens on {f.port}: wrong port?)"
    return False, ev, summary, _authorize(f)


def _egress(f: ReachFacts) -> Finding:
    src, c = f.source.instance, f.egress
    if f.source.kind != "instance" or src is None:
        return True, ["the source is not an instance: no egress rules apply"], "", None
    assert f.instance is not None
    dst = f"tcp/{f.port} to {f.instance.private_ip}"
    if c is None or not c.loaded:
        return None, [f"{src.instance_id} has no chain in the loaded firewall table"], "", None
    if c.admitted:
        rule = f"{c.group_id} rule {c.rule_id}" if c.rule_id else "a rule"
        return True, [f"{dst} leaves {src.instance_id}: {rule}: `{c.line}`"], "", None
    group = src.group_ids[0] if src.group_ids else "<group-id>"
    fix = (
        f"aws --profile {f.profile} ec2 authorize-security-group-egress --group-id {group}"
        f" --ip-permissions IpProtocol=tcp,FromPort={f.port},ToPort={f.port},"
        f"IpRanges=[{{CidrIp={f.instance.private_ip}/32}}]"
    )
    ev = [f"no egress rule of {', '.join(src.group_ids)} lets {src.instance_id} send {dst}"]
    return False, ev, f"{src.instance_id}'s egress rules do not let {dst} out", fix


def _describe(listener: Listener) -> str:
    who = f"{listener.process} (pid {listener.pid})" if listener.process else "unknown process"
    command = f": `{listener.command}`" if listener.command else ""
    return f"{listener.address}:{listener.port} {who}{command}"


def _ports(listeners: tuple[Listener, ...]) -> str:
    """The listening ports and their processes, once each: "22 (sshd), 80 (nginx)"."""
    by_port = sorted({li.port: li for li in listeners}.values(), key=lambda li: li.port)
    return ", ".join(f"{li.port} ({li.process or '?'})" for li in by_port) or "nothing"


def _listener(f: ReachFacts) -> Finding:
    if f.listeners is None:
        return None, ["could not look inside the instance (needs root)"], "", None
    assert f.instance is not None
    on_port = [li for li in f.listeners if li.port == f.port]
    reachable = [li for li in on_port if li.address in (*WILDCARDS, f.instance.private_ip)]
    ev = [f"listening on {f.port}: {_describe(li)}" for li in on_port]
    if reachable:
        return True, ev, "", None
    if on_port and "runserver" in on_port[0].command:
        fix = (
            f"run it as `./manage.py runserver 0:{f.port}` (0 = 0.0.0.0 = every address of "
            "the instance; without it runserver listens on 127.0.0.1 only)"
        )
        summary = (
            f"runserver listens on {on_port[0].address} only (runserver without 0): "
            "unreachable from outside the instance"
        )
        return False, ev, summary, fix
    if on_port:
        bound = on_port[0].address
        fix = (
            f"make it listen on 0.0.0.0 (every address): for Django, `./manage.py runserver "
            f"0:{f.port}`; for others bind 0.0.0.0 instead of {bound}"
        )
        summary = (
            f"{_describe(on_port[0])} listens on {bound} only: unreachable from outside "
            f"the instance (runserver without 0: listens on 127.0.0.1 only)"
        )
        return False, ev, summary, fix
    listed = _ports(f.listeners)
    ev = [f"nothing listens on tcp/{f.port}; listening: {listed}"]
    fix = (
        f"start the server on port {f.port} bound to 0.0.0.0 (e.g. `./manage.py runserver "
        f"0:{f.port}`), or connect to a port that listens: {listed}"
    )
    return False, ev, f"nothing listens on tcp/{f.port} in {f.instance.instance_id}", fix


def _answer(f: ReachFacts) -> Finding:
    return answers.judge(f)


STEPS: tuple[tuple[str, Callable[[ReachFacts], Finding]], ...] = (
    ("instance", _instance),
    ("route", _route),
    ("security-group", _rules),
    ("egress", _egress),
    ("listener", _listener),
    ("answer", _answer),
)


def decide(facts: ReachFacts) -> Report:
    """The layers in order, and the verdict naming the first that blocks (pure)."""
    layers: list[Layer] = []
    verdict: Verdict | None = None
    notes: list[str] = []
    for name, step in STEPS:
        if verdict is not None:
            layers.append(Layer(name, None, ["not reached"]))
            continue
        ok, evidence, summary, fix = step(facts)
        layers.append(Layer(name, ok, evidence))
        if ok is False:
            verdict = Verdict(name, False, summary, fix)
        elif summary:  # passed, with something worth saying (a 404, an outside source)
            notes.append(summary)
    if verdict is None:
        head = f"nothing blocks tcp/{facts.port} from {facts.source.text} to {facts.target}"
        verdict = Verdict("none", True, "; ".join([head, *notes]))
    return Report(verdict, layers, facts.target, facts.port, facts.source.text)
