"""``explain key-pair`` and ``iam`` on the user's own cloud: who may get in, and with
what (pure)."""

from __future__ import annotations

from dataclasses import asdict

from pocketcloud.explain.topics.common import (
    Out,
    address_of,
    joined,
    pem,
    running,
)
from pocketcloud.explain.topics.facts import Instance, TopicFacts


def _login(out: Out, facts: TopicFacts, inst: Instance, key: str = "key.try") -> None:
    out.say(key, 1, pem=pem(inst.key_name, facts), user=inst.login_user, ip=address_of(inst))


def render_key_pair(out: Out, facts: TopicFacts, subject: str | None) -> None:
    """What a key pair is; the key pairs, their fingerprints and instances; how to log in."""
    out.say("key.body")
    if facts.cloud.status == "missing":
        return
    out.blank()
    out.say("now")
    keys = [k for k in facts.keys if subject in (None, k.name)]
    if not keys:
        out.say("key.empty", 1)
    else:
        out.say("key.list", 1)
    data = []
    for key in out.cut(keys, 2):
        users = [i.instance_id for i in facts.instances if i.key_name == key.name]
        out.say(
            "key.item",
            2,
            name=key.name,
            type=key.key_type,
            key_id=key.key_pair_id,
            fingerprint=key.fingerprint,
        )
        out.say("key.used" if users else "key.unused", 3, instances=joined(users))
        out.say("key.pem" if key.pem else "key.no_pem", 3, pem=key.pem, name=key.name)
        data.append(asdict(key) | {"instance_ids": users})
    out.data["key_pairs"] = data
    with_pem = {k.name for k in keys if k.pem}
    names = {k.name for k in keys}
    candidates = [i for i in running(facts) if i.key_name in names]
    candidates.sort(key=lambda i: i.key_name not in with_pem)  # a key found here first
    inst = candidates[0] if candidates else None
    if inst is not None:
        out.blank()
        out.say("key.login", 0, instance=inst.instance_id, name=inst.key_name)
        _login(out, facts, inst)
        out.data["login"] = {
            "instance_id": inst.instance_id,
            "chmod": f"chmod 400 {pem(inst.key_name, facts)}",
            "ssh": f"ssh -i {pem(inst.key_name, facts)} {inst.login_user}@{address_of(inst)}",
        }


def render_iam(out: Out, facts: TopicFacts, subject: str | None) -> None:
    """What IAM is; the users and their policies; who the profile is and what it may do."""
    out.say("iam.body")
    if facts.cloud.status == "missing":
        return
    out.blank()
    out.say("now")
    out.say("iam.users", 1)
    users = [u for u in facts.users if subject in (None, u.name)]
    for user in out.cut(users, 2):
        out.say("iam.user", 2, name=user.name, arn=user.arn)
        policies = [a.rpartition("/")[2] for a in user.attached] + list(user.inline)
        out.say("iam.policies", 3, policies=joined(policies))
        if user.groups:
            out.say("iam.groups", 3, groups=joined(user.groups))
        out.say("iam.keys", 3, keys=joined(f"{k} ({s})" for k, s in user.access_keys))
    out.data["users"] = [asdict(u) for u in users]
    profile = facts.profile
    if profile is None:
        return
    out.data["profile"] = asdict(profile)
    out.blank()
    if profile.user is None:
        out.say("iam.profile.unknown", 1, profile=profile.name, key=profile.access_key_id or "-")
        return
    out.say("iam.profile", 1, profile=profile.name, key=profile.access_key_id, user=profile.user)
    out.say("iam.may", 1, user=profile.user)
    width = max((len(a) for a, _ in profile.decisions), default=0)
    for action, decision in profile.decisions:
        out.lines.append(f"    {action:<{width}}  {out.text(f'iam.{decision}')}")
    out.blank()
    out.say("try")
    out.say("iam.try", 1, profile=profile.name, user=profile.user)
