"""The cloud targets' edge: boto3 with a profile, as any AWS user would.

``pocketcloud`` and ``aws`` differ only in the profile and how the image is found; the
endpoint comes from the profile (``endpoint_url`` in ~/.aws/config), so the same code
deploys to real EC2. Every call that changes something is built once as an ``AwsCall``,
echoed as its AWS CLI line and made with exactly that call's parameters.
"""

from __future__ import annotations

import shlex
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from pocketcloud.deploy import provision as pv
from pocketcloud.deploy import storage as st
from pocketcloud.deploy.awscli import AwsCall

Echo = Callable[[str, str], None]
DEBIAN_OWNER = "136693071363"  # the Debian project's AWS account (its official AMIs)
# How often boto3's waiters poll (the CLI's `aws ec2 wait` keeps its own 15 s x 40)
POLL = {"Delay": 1, "MaxAttempts": 300}
NEW_GROUP = "<new group>"  # a dry run's stand-in for the id of a group not made yet


class CloudApiError(RuntimeError):
    """A call to the cloud's API failed, or its answer cannot serve the app: the AWS error
    code and message, or what is wrong. (Not the cloud's own ``pocketcloud.errors.CloudError``:
    this is what a client of any EC2 API meets.)"""


@dataclass(frozen=True)
class CloudTarget:
    """Which cloud, which profile, which image and type."""

    kind: str  # "pocketcloud" or "aws"
    profile: str
    region: str | None = None
    instance_type: str = "t3.micro"
    #: the image name (a pattern on AWS) to launch; None: the release the project needs
    image_name: str | None = None
    image_owner: str | None = None
    login_user: str = "admin"


@dataclass(frozen=True)
class Server:
    """The instance a deploy uses."""

    instance_id: str
    address: str
    known_hosts: list[str]


def target(kind: str, profile: str | None, region: str | None, **extra: Any) -> CloudTarget:
    """Defaults per kind: on AWS, Debian's own AMIs."""
    if kind == "aws":
        extra.setdefault("image_owner", DEBIAN_OWNER)
        return CloudTarget("aws", profile or "default", region, **extra)
    return CloudTarget("pocketcloud", profile or "pocketcloud", region, **extra)


class CloudApi:
    """One app's resources in one cloud account, through that cloud's EC2 API (boto3)."""

    def __init__(self, where: CloudTarget, app: str, echo: Echo) -> None:
        self.where, self.names, self.echo = where, pv.Names(app), echo
        self._clients: dict[str, Any] = {}
        try:
            self.session = boto3.Session(profile_name=where.profile, region_name=where.region)
            self.ec2 = self.client("ec2")
        except BotoCoreError as exc:
            raise CloudApiError(f"profile {where.profile}: {exc}") from exc

    def client(self, service: str) -> Any:
        """The profile's client of ``service`` (made once)."""
        if service not in self._clients:
            self._clients[service] = self.session.client(service)
        return self._clients[service]

    @property
    def region(self) -> str:
        """The region calls go to: ``--region``, else the profile's."""
        return str(self.where.region or self.session.region_name or "us-east-1")

    def run(self, call: AwsCall, *, dry_run: bool = False) -> Any:
        """Echo ``call`` as its AWS CLI line, then (unless ``dry_run``) make it with exactly
        its parameters (a waiter waits); the answer, None in a dry run or for a waiter."""
        self.echo("command", call.cli(self.where.profile, self.where.region))
        if dry_run:
            return None
        if not call.waiter:
            return self.call(call.operation, service=call.service, **call.params)
        try:
            self.ec2.get_waiter(call.operation).wait(**call.params, WaiterConfig=POLL)
        except (ClientError, BotoCoreError) as exc:
            raise CloudApiError(f"{call.operation}: {exc}") from exc
        return None

    def shell(self, *words: str) -> None:
        """Echo a local step this class takes itself (chmod, rm) as its shell line."""
        self.echo("command", shlex.join(words))

    def call(self, operation: str, service: str = "ec2", **params: Any) -> Any:
        """One call (EC2's unless ``service`` says); CloudApiError with AWS's code and
        message."""
        try:
            return getattr(self.client(service), operation)(**params)
        except ClientError as exc:
            err = exc.response["Error"]
            raise CloudApiError(f"{operation}: {err.get('Code')}: {err.get('Message')}") from exc
        except BotoCoreError as exc:
            raise CloudApiError(f"{operation}: {exc}") from exc

    # --- key pair ------------------------------------------------------------------------

    def key_pair(self, pem: Path, *, dry_run: bool = False) -> None:
        """The app's key pair, its private key at ``pem`` (mode 0400, the seed's chmod 400)."""
        name = self.names.key_pair
        found = self.call("describe_key_pairs", Filters=[{"Name": "key-name", "Values": [name]}])
        if found["KeyPairs"]:
            if not pem.exists():
                raise CloudApiError(
                    f"key pair {name} exists but its private key {pem} is missing; restore it, "
                    f"or remove the app (pocketcloud destroy --app {self.names.app})"
                )
            return
        made = self.run(pv.create_key_pair(self.names, pem), dry_run=dry_run)
        self.shell("chmod", "400", str(pem))
        if dry_run:
            return
        pem.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        if pem.exists():
            pem.chmod(0o600)
        pem.write_text(made["KeyMaterial"])
        pem.chmod(0o400)

    # --- security group ------------------------------------------------------------------

    def group(self, mode: str, *, dry_run: bool = False) -> str | None:
        """The app's group with its web port open; its id (None in a dry run that would make it)."""
        name = self.names.group
        found = self.call(
            "describe_security_groups", Filters=[{"Name": "group-name", "Values": [name]}]
        )
        groups = found["SecurityGroups"]
        if groups:
            group_id = str(groups[0]["GroupId"])
            self.authorize(group_id, pv.missing_rules(groups[0], pv.web_rules(mode)), dry_run)
            return group_id
        made = self.run(pv.create_security_group(self.names), dry_run=dry_run)
        if dry_run:
            return None
        self.authorize(made["GroupId"], pv.web_rules(mode), dry_run)
        return str(made["GroupId"])

    def authorize(self, group_id: str, rules: list[pv.Rule], dry_run: bool) -> None:
        if rules:
            self.run(pv.authorize_ingress(group_id, rules), dry_run=dry_run)

    def open_ssh(self, group_id: str, source: str) -> None:
        """Admit SSH from ``source`` if the group does not yet."""
        found = self.call("describe_security_groups", GroupIds=[group_id])["SecurityGroups"][0]
        self.authorize(group_id, pv.missing_rules(found, [pv.ssh_rule(source)]), dry_run=False)

    # --- instance ------------------------------------------------------------------------

    def instances(self) -> list[dict[str, Any]]:
        flt = [{"Name": f"tag:{pv.APP_TAG}", "Values": [self.names.app]},
               {"Name": "instance-state-name", "Values": list(pv.LIVE_STATES)}]  # fmt: skip
        found = self.call("describe_instances", Filters=flt)["Reservations"]
        return [i for r in found for i in r["Instances"]]

    def image_pattern(self, release: str) -> str:
        """The image name to look for: ``--image-name``, else the release (``debian-13``),
        spelled as Debian names its AMIs on AWS."""
        if self.where.image_name:
            return self.where.image_name
        return f"{release}-amd64-*" if self.where.kind == "aws" else release

    def image(self, release: str) -> str:
        """The newest image whose name matches (and owner, on AWS)."""
        pattern = self.image_pattern(release)
        params: dict[str, Any] = {"Filters": [{"Name": "name", "Values": [pattern]}]}
        if self.where.image_owner:
            params["Owners"] = [self.where.image_owner]
        images = self.call("describe_images", **params)["Images"]
        if not images:
            hint = f" (pocketcloud image build {release})" if self.where.kind != "aws" else ""
            raise CloudApiError(f"no image named {pattern!r}{hint}")
        return str(max(images, key=lambda i: i.get("CreationDate", ""))["ImageId"])

    def instance(
        self,
        group_id: str | None,
        release: Callable[[], str] = lambda: "debian-12",
        *,
        profile: str | None = None,
        dry_run: bool = False,
    ) -> dict[str, Any] | None:
        """The app's running instance: reused, started, or launched (from the image of
        ``release()``, asked only when one is launched), with instance profile ``profile``
        when one is named."""
        try:
            chosen = pv.choose_instance(self.instances(), self.names.key_pair)
        except pv.ProvisionError as exc:
            raise CloudApiError(str(exc)) from exc
        if chosen is None:
            call = pv.run_instance(
                self.names, self.image(release()), self.where.instance_type, group_id or NEW_GROUP,
                profile,
            )  # fmt: skip
            made = self.run_fresh_profile(call, dry_run=dry_run)
            if dry_run:
                return None
            chosen = made["Instances"][0]
        elif chosen["State"]["Name"] in ("stopped", "stopping"):
            if not dry_run:
                self.wait_state(chosen["InstanceId"], "instance_stopped")
            self.run(pv.start_instances([chosen["InstanceId"]]), dry_run=dry_run)
        if dry_run:
            return chosen
        self.wait_state(chosen["InstanceId"], "instance_running")
        return self.describe(chosen["InstanceId"])

    def run_fresh_profile(self, call: AwsCall, *, dry_run: bool = False) -> Any:
        """Run a call naming an instance profile made moments ago: AWS's IAM is eventually
        consistent, and EC2 may not know the profile for a few seconds, so an
        InvalidParameterValue about it is tried again, for a minute at most."""
        deadline = time.monotonic() + 60
        while True:
            try:
                return self.run(call, dry_run=dry_run)
            except CloudApiError as exc:
                fresh = "iamInstanceProfile" in str(exc) and "InvalidParameterValue" in str(exc)
                if not fresh or "IamInstanceProfile" not in call.params:
                    raise
                if time.monotonic() > deadline:
                    raise
                time.sleep(3)

    # --- storage: the app's bucket and role ----------------------------------------------

    def storage(self, names: st.StorageNames, *, dry_run: bool = False) -> None:
        """The app's bucket, its role (read and write that bucket only) and the instance
        profile holding it: each made if missing, the role's policy set as wanted."""
        try:
            calls = st.plan(names, self.storage_facts(names), self.region)
        except st.StorageConflict as exc:
            raise CloudApiError(str(exc)) from exc
        for call in calls:
            self.run(call, dry_run=dry_run)

    def storage_facts(self, names: st.StorageNames) -> st.StorageFacts:
        """What exists of the app's storage (HeadBucket, GetRole, GetRolePolicy,
        GetInstanceProfile)."""
        bucket = self._exists("head_bucket", "s3", Bucket=names.bucket)
        found_role = self._found("get_role", "iam", RoleName=names.role)
        role = found_role is not None
        policy = None
        if role:
            found = self._found(
                "get_role_policy", "iam", RoleName=names.role, PolicyName=st.POLICY_NAME
            )
            policy = found["PolicyDocument"] if found else None
        profile = self._found("get_instance_profile", "iam", InstanceProfileName=names.profile)
        roles = profile["InstanceProfile"]["Roles"] if profile else []
        return st.StorageFacts(
            bucket,
            role,
            policy,
            profile is not None,
            tuple(r["RoleName"] for r in roles),
            _tags(found_role["Role"] if found_role else {}),
            _tags(profile["InstanceProfile"] if profile else {}),
        )

    def _found(self, operation: str, service: str, **params: Any) -> Any:
        """The answer, or None when AWS says there is no such thing."""
        try:
            return self.call(operation, service=service, **params)
        except CloudApiError as exc:
            if any(code in str(exc) for code in ("NoSuchEntity", ": 404:", "NoSuchBucket")):
                return None
            if operation == "head_bucket" and ": 403:" in str(exc):
                raise CloudApiError(
                    f"bucket {params['Bucket']} exists and this profile may not use it "
                    "(bucket names are global on AWS: choose another)"
                ) from exc
            raise

    def _exists(self, operation: str, service: str, **params: Any) -> bool:
        return self._found(operation, service, **params) is not None

    def give_profile(self, instance: dict[str, Any], names: st.StorageNames) -> None:
        """Give a running instance the app's profile (associate, or replace another)."""
        found = self.call(
            "describe_iam_instance_profile_associations",
            Filters=[{"Name": "instance-id", "Values": [instance["InstanceId"]]}],
        )["IamInstanceProfileAssociations"]
        profile = self.call("get_instance_profile", "iam", InstanceProfileName=names.profile)
        call = st.attach(names, instance["InstanceId"], profile["InstanceProfile"]["Arn"], found)
        if call is not None:
            self.run_fresh_profile(call)

    def wait_state(self, instance_id: str, waiter: str) -> None:
        """Wait (boto3 waiter ``waiter``, e.g. ``instance_running``) for one instance."""
        try:
            self.run(pv.wait_instance(waiter, instance_id))
        except CloudApiError as exc:
            raise CloudApiError(f"{instance_id}: {exc}") from exc

    def describe(self, instance_id: str) -> dict[str, Any]:
        found = self.call("describe_instances", InstanceIds=[instance_id])
        return dict(found["Reservations"][0]["Instances"][0])

    def server(self, instance: dict[str, Any]) -> Server:
        """How to reach the instance, with the host keys it printed on its console."""
        address = pv.addresses(instance)[0]
        console = ""
        for _ in range(20):
            found = self.call("get_console_output", InstanceId=instance["InstanceId"])
            console = found.get("Output") or ""
            if "END SSH HOST KEY KEYS" in console:
                break
            time.sleep(0.5)
        return Server(instance["InstanceId"], address, pv.host_keys(console, address))

    # --- removal -------------------------------------------------------------------------

    def destroy(self, pem: Path) -> None:
        """Terminate the app's instances, then delete its group and key pair (and ``pem``)."""
        ids = [i["InstanceId"] for i in self.instances()]
        if ids:
            self.run(pv.terminate_instances(ids))
            for instance_id in ids:
                self.wait_state(instance_id, "instance_terminated")
        groups = self.call(
            "describe_security_groups",
            Filters=[{"Name": "group-name", "Values": [self.names.group]}],
        )["SecurityGroups"]
        for group in groups:
            self.run(pv.delete_security_group(group["GroupId"]))
        self.run(pv.delete_key_pair(self.names))
        if pem.exists():
            self.shell("rm", "-f", str(pem))
            pem.chmod(0o600)
            pem.unlink()


def _tags(described: dict[str, Any]) -> dict[str, str]:
    """A described IAM entity's tags, by key."""
    return {t["Key"]: t.get("Value", "") for t in described.get("Tags") or []}


def source_address(address: str) -> str:
    """The address this machine sends from to reach ``address`` (no packet is sent: a UDP
    socket is only connected, so the kernel picks the route)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.connect((address, 22))
        return str(probe.getsockname()[0])
