"""``explain instance`` and ``hosting`` on the user's own cloud: what an instance is
here, and what runs on it once deployed (pure)."""

from __future__ import annotations

from dataclasses import asdict

from pocketcloud.explain.topics.common import (
    Out,
    address_of,
    joined,
    listing_sockets,
    pem,
    show_address,
)
from pocketcloud.explain.topics.facts import App, Instance, TopicFacts


def render_instance(out: Out, facts: TopicFacts, subject: str | None) -> None:
    """What an instance is (here: namespaces, overlay, cgroup); the instances; one
    instance's host objects."""
    out.say("inst.body")
    if facts.cloud.status == "missing":
        return
    out.blank()
    out.say("now")
    chosen = [i for i in facts.instances if subject in (None, i.instance_id)]
    if not chosen:
        out.say("no_instances", 1)
        out.data["instances"] = []
        return
    out.say("inst.list", 1)
    for inst in out.cut(chosen, 2):
        name = inst.tags.get("Name")
        out.say(
            "inst.item",
            2,
            instance=inst.instance_id,
            state=inst.state,
            type=inst.instance_type,
            private=inst.private_ip,
            public=inst.public_ip or "-",
            key=inst.key_name or "-",
            groups=joined(inst.group_ids),
            name=f"  ({name})" if name else "",
        )
    out.data["instances"] = [
        asdict(i) | {"tags": dict(i.tags), "sockets": listing_sockets(i)} for i in chosen
    ]
    live = next((i for i in chosen if i.state == "running"), None)
    if live is not None:
        _parts(out, facts, live)


def _parts(out: Out, facts: TopicFacts, inst: Instance) -> None:
    """One running instance's host objects, and how to look at them."""
    out.blank()
    out.say("inst.parts", 1, instance=inst.instance_id)
    out.say("inst.netns", 2, netns=inst.netns, veth=inst.veth)
    out.say("inst.cgroup", 2, cgroup=inst.cgroup, pid=inst.init_pid or "?")
    out.say("inst.upper", 2, upper=f"{inst.workdir}/upper")
    out.blank()
    out.say("try")
    out.say(
        "inst.try",
        1,
        pem=pem(inst.key_name, facts),
        user=inst.login_user,
        ip=address_of(inst),
        netns=inst.netns,
    )


def _app_url(app: App, inst: Instance) -> str:
    current = next((r for r in app.releases if r.current), None)
    port = ":8080" if current is not None and current.mode == "runserver" else ""
    return f"http://{address_of(inst)}{port}/"


def render_hosting(out: Out, facts: TopicFacts, subject: str | None) -> None:
    """What hosting is here (nginx → gunicorn → Django, releases); the deployed apps."""
    out.say("host.body")
    if facts.cloud.status == "missing":
        return
    out.blank()
    out.say("now")
    apps = [a for a in facts.apps if subject in (None, a.name)]
    if not apps:
        out.say("host.empty", 1)
        out.data["apps"] = []
        return
    out.say("host.list", 1)
    by_id = {i.instance_id: i for i in facts.instances}
    data = []
    for app in out.cut(apps, 2):
        inst = by_id[app.instance_id]
        url = _app_url(app, inst)
        out.say("host.app", 2, app=app.name, instance=inst.instance_id, state=inst.state, url=url)
        web = [s for s in inst.sockets or () if s.port == 80]
        if web:
            out.say("host.nginx", 3, address=joined(f"{show_address(s.address)}:80" for s in web))
        elif inst.state == "running":
            out.say("host.no_nginx", 3)
        for path, proc in app.unix_sockets:
            out.say("host.gunicorn", 3, process=proc or "?", path=path)
        _releases(out, app, inst)
        data.append(asdict(app) | {"url": url, "state": inst.state})
    out.data["apps"] = data
    first = apps[0]
    out.blank()
    out.say("try")
    out.say("host.try", 1, app=first.name, ip=address_of(by_id[first.instance_id]))


def _releases(out: Out, app: App, inst: Instance) -> None:
    if not app.releases:
        path = f"{inst.workdir}/upper/srv/app/{app.name}/releases"
        out.say("host.no_release", 3, path=path)
        return
    out.say("host.releases", 3, count=len(app.releases))
    for release in out.cut(app.releases, 4):
        out.say(
            "host.release",
            4,
            marker="→" if release.current else " ",
            release=release.release_id,
            created=release.created,
            mode=release.mode,
        )
