"""``explain aws-keys`` on the user's own cloud: access keys, key pairs and roles — three
things called "keys" that have nothing to do with each other — and where each deployed
app's AWS credentials come from (pure). Never a secret: the facts hold none."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from pocketcloud.explain.topics.common import Out, address_of, joined, pem, running
from pocketcloud.explain.topics.facts import APP_TAG, Association, Instance, TopicFacts

EC2_SERVICE = "ec2.amazonaws.com"
IMDS_CREDENTIALS = "http://169.254.169.254/latest/meta-data/iam/security-credentials/"


def render_aws_keys(out: Out, facts: TopicFacts) -> None:
    """The three kinds; the access keys, key pairs, roles, instance profiles and the
    instances holding them; each app's credentials; how to look for yourself."""
    out.say("keys.body")
    if facts.cloud.status == "missing":
        return
    out.blank()
    out.say("now")
    _access_keys(out, facts)
    out.blank()
    _key_pairs(out, facts)
    out.blank()
    _roles(out, facts)
    out.blank()
    _instances(out, facts)
    out.blank()
    _apps(out, facts)
    out.blank()
    _try(out, facts)


def _access_keys(out: Out, facts: TopicFacts) -> None:
    """Each user's access key ids and status (a secret is not in the facts at all)."""
    keys = [(u.name, key, status) for u in facts.users for key, status in u.access_keys]
    out.say("keys.access" if keys else "keys.access.empty", 1)
    for user, key, status in out.cut(keys, 2):
        out.say("keys.access.item", 2, user=user, key=key, status=status)
    out.data["access_keys"] = [
        {"user": user, "access_key_id": key, "status": status} for user, key, status in keys
    ]
    profile = facts.profile
    out.data["profile"] = asdict(profile) if profile is not None else None
    if profile is None or profile.access_key_id is None:
        return
    if profile.user is None:
        out.say("keys.profile.unknown", 1, profile=profile.name, key=profile.access_key_id)
    else:
        key, user = profile.access_key_id, profile.user
        out.say("keys.profile", 1, profile=profile.name, key=key, user=user)


def _key_pairs(out: Out, facts: TopicFacts) -> None:
    out.say("keys.pairs" if facts.keys else "keys.pairs.empty", 1)
    data = []
    for key in out.cut(facts.keys, 2):
        users = [i.instance_id for i in facts.instances if i.key_name == key.name]
        out.say("keys.pair", 2, name=key.name, fingerprint=key.fingerprint, instances=joined(users))
        data.append(
            {
                "name": key.name,
                "key_pair_id": key.key_pair_id,
                "fingerprint": key.fingerprint,
                "instance_ids": users,
            }
        )
    out.data["key_pairs"] = data


def _holders(facts: TopicFacts, profile: str) -> list[str]:
    """The instances an instance profile is given to."""
    return [a.instance_id for a in facts.associations if a.profile == profile]


def _roles(out: Out, facts: TopicFacts) -> None:
    """Each role: who may assume it, its policies and what they allow, its profiles."""
    out.say("keys.roles" if facts.roles else "keys.roles.empty", 1)
    data = []
    for role in out.cut(facts.roles, 2):
        out.say("keys.role", 2, name=role.name, arn=role.arn)
        who = (f"{p} ({out.text('keys.ec2')})" if p == EC2_SERVICE else p for p in role.trusted)
        out.say("keys.trusted", 3, principals=joined(who))
        policies = [a.rpartition("/")[2] for a in role.attached] + list(role.inline)
        out.say("keys.policies", 3, policies=joined(policies))
        if role.resources:
            out.say("keys.resources", 3, resources=joined(role.resources))
        profiles = [p.name for p in facts.instance_profiles if p.role == role.name]
        instances = [a.instance_id for a in facts.associations if a.role == role.name]
        data.append(asdict(role) | {"instance_profiles": profiles, "instance_ids": instances})
    out.data["roles"] = data
    out.data["instance_profiles"] = [
        asdict(p) | {"instance_ids": _holders(facts, p.name)} for p in facts.instance_profiles
    ]
    if not facts.instance_profiles:
        return
    out.blank()
    out.say("keys.profiles", 1)
    for p in out.cut(facts.instance_profiles, 2):
        holders = joined(_holders(facts, p.name))
        key = "keys.iprofile" if p.role else "keys.iprofile.empty"
        out.say(key, 2, name=p.name, role=p.role, instances=holders)


def _association(facts: TopicFacts, inst: Instance) -> Association | None:
    return next((a for a in facts.associations if a.instance_id == inst.instance_id), None)


def _instances(out: Out, facts: TopicFacts) -> None:
    """Each instance's instance profile and the role it gets through it."""
    if not facts.instances:
        out.say("no_instances", 1)
    else:
        out.say("keys.instances", 1)
    data = []
    for inst in out.cut(facts.instances, 2):
        found = _association(facts, inst)
        values: dict[str, Any] = {"instance": inst.instance_id, "state": inst.state}
        if found is None:
            out.say("keys.instance.none", 2, **values)
        elif found.profile is None:
            out.say("keys.instance.gone", 2, arn=found.profile_arn, **values)
        elif found.role is None:
            out.say("keys.instance.empty_profile", 2, profile=found.profile, **values)
        else:
            out.say("keys.instance.role", 2, profile=found.profile, role=found.role, **values)
        data.append(
            {"instance_id": inst.instance_id, "state": inst.state}
            | {"association_id": None, "profile_arn": None, "profile": None, "role": None}
            | (asdict(found) if found is not None else {})
        )
    out.data["instances"] = data


def _apps(out: Out, facts: TopicFacts) -> None:
    """Where each deployed app's credentials come from: its instance's role, or none."""
    tagged = sorted(
        ((i.tags[APP_TAG], i) for i in facts.instances if APP_TAG in i.tags), key=lambda t: t[0]
    )
    out.say("keys.apps" if tagged else "keys.apps.empty", 1)
    data = []
    for app, inst in out.cut(tagged, 2):
        found = _association(facts, inst)
        role = found.role if found is not None else None
        values = {"app": app, "instance": inst.instance_id}
        out.say("keys.app.role" if role else "keys.app.none", 2, role=role, **values)
        data.append(
            {"app": app, "instance_id": inst.instance_id, "role": role}
            | {"credentials": "role" if role else "none"}
        )
    out.data["apps"] = data


def _with_role(facts: TopicFacts) -> tuple[Instance, str] | None:
    """A running instance that has a role, one whose key is on this machine first."""
    found = []
    for inst in running(facts):
        association = _association(facts, inst)
        if association is not None and association.role is not None and inst.key_name:
            found.append((inst, association.role))
    have = {k.name for k in facts.keys if k.pem}
    found.sort(key=lambda t: t[0].key_name not in have)
    return found[0] if found else None


def _try(out: Out, facts: TopicFacts) -> None:
    out.say("try")
    profile = facts.profile.name if facts.profile is not None else "pocketcloud"
    chosen = _with_role(facts)
    if chosen is not None:
        inst, role = chosen
        key, user, ip = pem(inst.key_name, facts), inst.login_user, address_of(inst)
        url = f"{IMDS_CREDENTIALS}{role}"
        out.say("keys.try.imds", 1, pem=key, user=user, ip=ip, url=url, instance=inst.instance_id)
        out.data["imds"] = {
            "instance_id": inst.instance_id,
            "role": role,
            "ssh": f"ssh -i {key} {user}@{ip} curl -s {url}",
        }
    out.say("keys.try", 1, profile=profile)
