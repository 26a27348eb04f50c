"""What a cloud target must create for an app (pure): key pair, security group, instance.

The facts are what DescribeKeyPairs/SecurityGroups/Instances return; the actions come
back as data, ``AwsCall``s whose AWS CLI line is rendered from the very parameters boto3
is given, so ``--dry-run`` shows a learner the seed's EC2 steps.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import PurePath
from typing import Any

from pocketcloud.deploy.awscli import AwsCall, waiter

APP_TAG = "pocketcloud:app"
LIVE_STATES = ("pending", "running", "stopping", "stopped")


class ProvisionError(RuntimeError):
    """The cloud holds something that cannot be reused and must not be thrown away."""


@dataclass(frozen=True)
class Rule:
    """One ingress rule: tcp ``port`` from ``cidr``."""

    port: int
    cidr: str
    description: str = ""

    def permission(self) -> dict[str, Any]:
        ip_range = {"CidrIp": self.cidr, "Description": self.description}
        return {"IpProtocol": "tcp", "FromPort": self.port, "ToPort": self.port,
                "IpRanges": [ip_range]}  # fmt: skip


@dataclass(frozen=True)
class Names:
    """The cloud names of an app's resources."""

    app: str

    @property
    def key_pair(self) -> str:
        return self.app

    @property
    def group(self) -> str:
        return f"{self.app}-web"

    def tags(self, resource: str) -> list[dict[str, Any]]:
        tags = [{"Key": "Name", "Value": self.app}, {"Key": APP_TAG, "Value": self.app}]
        return [{"ResourceType": resource, "Tags": tags}]


def create_key_pair(names: Names, pem: PurePath) -> AwsCall:
    """An ed25519 key pair, tagged; the CLI line saves its private key to ``pem``."""
    params = {"KeyName": names.key_pair, "KeyType": "ed25519",
              "TagSpecifications": names.tags("key-pair")}  # fmt: skip
    return AwsCall("create_key_pair", params, query="KeyMaterial", output="text", redirect=str(pem))


def create_security_group(names: Names) -> AwsCall:
    params = {"GroupName": names.group, "Description": f"pocketcloud app {names.app}: ssh and http",
              "TagSpecifications": names.tags("security-group")}  # fmt: skip
    return AwsCall("create_security_group", params)


def authorize_ingress(group_id: str, rules: list[Rule]) -> AwsCall:
    perms = [rule.permission() for rule in rules]
    return AwsCall(
        "authorize_security_group_ingress", {"GroupId": group_id, "IpPermissions": perms}
    )


def run_instance(
    names: Names, image: str, instance_type: str, group_id: str, profile: str | None = None
) -> AwsCall:
    """One instance with the app's key pair and group, tagged (and its instance profile)."""
    params: dict[str, Any] = {
        "ImageId": image, "InstanceType": instance_type, "KeyName": names.key_pair,
        "SecurityGroupIds": [group_id], "MinCount": 1, "MaxCount": 1,
        "TagSpecifications": names.tags("instance"),
    }  # fmt: skip
    if profile:
        params["IamInstanceProfile"] = {"Name": profile}
    return AwsCall("run_instances", params)


def start_instances(ids: list[str]) -> AwsCall:
    return AwsCall("start_instances", {"InstanceIds": ids})


def terminate_instances(ids: list[str]) -> AwsCall:
    return AwsCall("terminate_instances", {"InstanceIds": ids})


def wait_instance(state: str, instance_id: str) -> AwsCall:
    """The boto3 waiter ``state`` (``instance_running``) for one instance."""
    return waiter(state, InstanceIds=[instance_id])


def delete_security_group(group_id: str) -> AwsCall:
    return AwsCall("delete_security_group", {"GroupId": group_id})


def delete_key_pair(names: Names) -> AwsCall:
    return AwsCall("delete_key_pair", {"KeyName": names.key_pair})


def web_rules(mode: str) -> list[Rule]:
    """HTTP from anywhere: 80 behind nginx, or 8080 for the seed's runserver."""
    if mode == "runserver":
        return [Rule(8080, "0.0.0.0/0", "runserver 0:8080 (development server)")]
    return [Rule(80, "0.0.0.0/0", "http (nginx)")]


def ssh_rule(source: str) -> Rule:
    """SSH from the deploying machine only."""
    cidr = source if "/" in source else f"{source}/32"
    return Rule(22, cidr, "ssh from the deploying machine")


def existing_rules(group: dict[str, Any]) -> set[tuple[int, str]]:
    """(port, cidr) of a described group's single-port tcp rules."""
    out = set()
    for perm in group.get("IpPermissions", []):
        if perm.get("IpProtocol") in ("tcp", "-1") and perm.get("FromPort") == perm.get("ToPort"):
            out |= {(int(perm.get("FromPort", -1)), r["CidrIp"]) for r in perm.get("IpRanges", [])}
    return out


def missing_rules(group: dict[str, Any], wanted: list[Rule]) -> list[Rule]:
    have = existing_rules(group)
    return [rule for rule in wanted if (rule.port, rule.cidr) not in have]


def choose_instance(instances: list[dict[str, Any]], key_name: str) -> dict[str, Any] | None:
    """The app's instance to reuse (running first, then stopped); None: launch one.

    ProvisionError if the only instances were launched with another key pair."""
    live = [i for i in instances if i["State"]["Name"] in LIVE_STATES]
    ours = [i for i in live if i.get("KeyName") == key_name]
    if live and not ours:
        ids = ", ".join(i["InstanceId"] for i in live)
        raise ProvisionError(f"instance {ids} was launched with another key pair than {key_name}")
    order = {"running": 0, "pending": 1, "stopped": 2, "stopping": 3}
    ours.sort(key=lambda i: (order[i["State"]["Name"]], i["InstanceId"]))
    return ours[0] if ours else None


def addresses(instance: dict[str, Any]) -> tuple[str, ...]:
    """The names a site on the instance answers to: public then private address and names."""
    keys = ("PublicIpAddress", "PrivateIpAddress", "PublicDnsName", "PrivateDnsName")
    found = [str(instance.get(k) or "") for k in keys]
    return tuple(dict.fromkeys(n for n in found if n))


def host_keys(console: str, address: str) -> list[str]:
    """known_hosts lines from the host keys an instance prints on its console (EC2's
    ``-----BEGIN SSH HOST KEY KEYS-----`` block); empty if it printed none."""
    start, end = "-----BEGIN SSH HOST KEY KEYS-----", "-----END SSH HOST KEY KEYS-----"
    if start not in console or end not in console:
        return []
    block = console[console.rindex(start) + len(start) : console.rindex(end)]
    keys = [line.split()[:2] for line in block.splitlines() if line.strip()]
    return [
        f"{address} {kind} {blob}" for kind, blob in keys if kind.startswith(("ssh-", "ecdsa-"))
    ]
