"""``explain runserver [addrport]``: what ``./manage.py runserver 0:8080`` means, on the
user's own instances (pure).

The argument is read the way Django's ``runserver`` reads it: ``[address:]port``, where
the address is an IPv4 address, a bracketed IPv6 address or a name; "0" means 0.0.0.0,
a missing address 127.0.0.1, a missing argument 127.0.0.1:8000.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import asdict, dataclass
from typing import Any

from pocketcloud.explain.topics.common import (
    EVERY,
    Out,
    address_of,
    admits,
    admitting,
    joined,
    listing_sockets,
    meaning,
    peer,
    pem,
    process,
    reachable,
    rule_data,
    running,
    show_address,
    traffic,
)
from pocketcloud.explain.topics.facts import Instance, TopicFacts

DEFAULT_ADDR = "127.0.0.1"
DEFAULT_PORT = 8000
# django/core/management/commands/runserver.py: naiveip_re
_ADDRPORT = re.compile(
    r"""^(?:
(?P<addr>
    (?P<ipv4>\d{1,3}(?:\.\d{1,3}){3}) |
    (?P<ipv6>\[[a-fA-F0-9:]+\]) |
    (?P<fqdn>[a-zA-Z0-9-]+(?:\.[a-zA-Z0-9-]+)*)
):)?(?P<port>\d+)$""",
    re.X,
)


@dataclass(frozen=True)
class Bind:
    """Where ``runserver <written>`` listens."""

    written: str  # the argument as given ("" for none)
    address: str  # what it binds: "0.0.0.0", "127.0.0.1", "::", a name
    port: int
    given_address: str | None = None  # the address part as written (None: absent)
    given_port: bool = True

    @property
    def kind(self) -> str:
        """``all`` (every address), ``loopback``, ``one`` (one address) or ``name``."""
        if self.address in EVERY:
            return "all"
        if self.address == "localhost":
            return "loopback"
        try:
            ip = ipaddress.ip_address(self.address)
        except ValueError:
            return "name"
        return "loopback" if ip.is_loopback else "one"


def parse_runserver(written: str | None) -> Bind:
    """The address and port ``runserver`` would listen on (ValueError, with Django's
    message, for an argument it refuses)."""
    if not written:
        return Bind("", DEFAULT_ADDR, DEFAULT_PORT, None, False)
    match = _ADDRPORT.match(written)
    if match is None:
        raise ValueError(f'"{written}" is not a valid port number or address:port pair.')
    port = int(match["port"])
    if not 0 < port < 65536:
        raise ValueError(f"{match['port']!r} is not a valid port number.")
    given = match["addr"]
    if given is None:
        return Bind(written, DEFAULT_ADDR, port, None)
    address = given[1:-1] if match["ipv6"] else given
    if address == "0":  # Django: "0" is shown as 0.0.0.0, and binds every address
        address = "0.0.0.0"  # noqa: S104 (a description, nothing is bound)
    return Bind(written, address, port, given)


def _explain_bind(out: Out, bind: Bind) -> None:
    port = bind.port
    if bind.given_address is None:
        out.say("runserver.addr.default", 1, port=port)
    else:
        key = {
            "all": "runserver.addr.all",
            "loopback": "runserver.addr.loopback",
            "one": "runserver.addr.one",
            "name": "runserver.addr.name",
        }[bind.kind]
        out.say(key, 1, given=bind.given_address, address=bind.address, port=port)
    if bind.given_port:
        out.say("runserver.port", 1, given=str(port), port=port)
    else:
        out.say("runserver.port.default", 1, port=port)


def _url(out: Out, inst: Instance, facts: TopicFacts, bind: Bind) -> dict[str, Any]:
    """Whether http://<address>:<port>/ of the instance answers, and why (or why not)."""
    port = bind.port
    url = f"http://{address_of(inst)}:{port}/"
    # a rule admitting everyone first: it is the one that lets this host in
    rules = sorted(admitting(inst, facts, port), key=lambda gr: gr[1].cidr_ipv4 != "0.0.0.0/0")
    listeners = [s for s in inst.sockets or () if s.port == port]
    open_ = [s for s in listeners if reachable(s, inst)]
    rule_ids = [r.rule_id for _, r in rules]
    values: dict[str, object] = {"url": url, "instance": inst.instance_id, "port": port}
    if open_ and rules:
        status = "answers"
        values |= {"process": process(open_[0]), "address": show_address(open_[0].address)}
        values |= {"rule": rule_ids[0], "source": peer(out, rules[0][1])}
    elif listeners and not open_:
        status = "loopback"
        values["address"] = joined(show_address(s.address) for s in listeners)
    elif open_:
        status = "blocked"
    elif rules:
        status = "not_listening"
        values |= {
            # a bind only the instance itself reaches would never answer: say what would
            "written": bind.written if bind.kind == "all" else f"0:{port}",
            "rules": out.text("url.admitted_by", rule=rule_ids[0], source=peer(out, rules[0][1])),
        }
    else:
        status = "nothing"
    out.say(f"url.{status}", 2, **values)
    return {"instance_id": inst.instance_id, "url": url, "status": status, "rule_ids": rule_ids}


def render_runserver(out: Out, facts: TopicFacts, bind: Bind) -> None:
    """The bind explained, then the instances: who listens on the port, which rules admit
    it, which URL answers."""
    out.say("runserver.intro")
    _explain_bind(out, bind)
    out.data["bind"] = asdict(bind) | {"kind": bind.kind}
    if facts.cloud.status == "missing":
        return
    live = running(facts)
    out.blank()
    out.say("now")
    listening = [(i, s) for i in live for s in i.sockets or () if s.port == bind.port]
    if listening:
        out.say("runserver.listeners", 1, port=bind.port)
        for inst, sock in out.cut(listening, 2):
            out.say(
                "listening.socket",
                2,
                address=f"{inst.instance_id} {show_address(sock.address)}",
                port=sock.port,
                process=process(sock),
                meaning=out.text(f"meaning.{meaning(sock, inst)}", address=sock.address),
            )
    else:
        out.say("runserver.no_listener", 1, port=bind.port)
    out.data["listeners"] = [
        {"instance_id": i.instance_id} | s
        for i in live
        for s in listing_sockets(i)
        if s["port"] == bind.port
    ]
    _rules(out, facts, bind.port)
    if not live:
        out.say("no_instances", 1)
        out.data["urls"] = []
        return
    out.say("runserver.urls", 1)
    out.data["urls"] = [_url(out, i, facts, bind) for i in out.cut(live, 2)]
    if bind.kind in ("loopback", "one"):
        note = out.text(f"runserver.note.{bind.kind}", address=bind.address)
        out.say("runserver.bind_note", 1, address=bind.address, note=note)
    first = live[0]
    out.blank()
    out.say("try")
    out.say(
        "runserver.try",
        1,
        pem=pem(first.key_name, facts),
        user=first.login_user,
        ip=address_of(first),
        written=bind.written or "",
        port=bind.port,
    )


def _rules(out: Out, facts: TopicFacts, port: int) -> None:
    """The rules admitting TCP ``port``, each with the instances it guards."""
    found = []
    for group in facts.groups:
        for rule in group.rules:
            if admits(rule, port):
                found.append((group, rule))
    if found:
        out.say("runserver.rules", 1, port=port)
        for group, rule in out.cut(found, 2):
            out.say(
                "runserver.rule",
                2,
                group=group.group_id,
                name=group.name,
                rule=rule.rule_id,
                traffic=traffic(out, rule),
                source=peer(out, rule),
                instances=joined(group.instance_ids, out.text("sg.nobody")),
            )
    else:
        groups = (g for i in running(facts) for g in i.group_ids)
        target = next(groups, "<sg-id>")
        out.say("runserver.no_rule", 1, port=port, group=target)
    out.data["rules"] = [rule_data(g, r) for g, r in found]
