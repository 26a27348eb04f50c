"""``pocketcloud quickstart``: the first things a user does with a new cloud.

An API client like the AWS CLI: it talks to the running control plane through
boto3 with the ``pocketcloud`` profile, then shows the same state through ``aws``.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import re
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import boto3
from botocore.exceptions import ClientError
from rich.console import Console

KEY_NAME = "quickstart"
GROUP_NAME = "quickstart-web"


def _key_pair(ec2: Any, pem: Path, console: Console) -> None:
    """Create the quickstart key pair and save its private key (writes ``pem``, mode 0400)."""
    try:
        ec2.describe_key_pairs(KeyNames=[KEY_NAME])
        if pem.exists():
            console.print(f"key pair [bold]{KEY_NAME}[/] exists; private key in {pem}")
            return
        ec2.delete_key_pair(KeyName=KEY_NAME)  # its private key is lost: make a new one
    except ClientError as error:
        if error.response["Error"]["Code"] != "InvalidKeyPair.NotFound":
            raise
    made = ec2.create_key_pair(KeyName=KEY_NAME, KeyType="ed25519")
    pem.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    if pem.exists():
        pem.chmod(0o600)
    pem.write_text(made["KeyMaterial"])
    pem.chmod(0o400)
    console.print(
        f"created key pair [bold]{KEY_NAME}[/] ({made['KeyFingerprint']}); "
        f"private key saved to {pem} (chmod 400)"
    )


def _security_group(ec2: Any, console: Console) -> str:
    """Create a group that admits SSH (22) and HTTP (80) from anywhere, once."""
    try:
        found = ec2.describe_security_groups(GroupNames=[GROUP_NAME])["SecurityGroups"]
        console.print(f"security group [bold]{GROUP_NAME}[/] exists ({found[0]['GroupId']})")
        return str(found[0]["GroupId"])
    except ClientError as error:
        if error.response["Error"]["Code"] != "InvalidGroup.NotFound":
            raise
    group_id = ec2.create_security_group(
        GroupName=GROUP_NAME, Description="quickstart: ssh and http"
    )["GroupId"]
    ec2.authorize_security_group_ingress(
        GroupId=group_id,
        IpPermissions=[
            {
                "IpProtocol": "tcp",
                "FromPort": port,
                "ToPort": port,
                "IpRanges": [{"CidrIp": "0.0.0.0/0", "Description": name}],
            }
            for port, name in ((22, "ssh"), (80, "http"))
        ],
    )
    console.print(f"created security group [bold]{GROUP_NAME}[/] ({group_id}) admitting tcp 22, 80")
    return str(group_id)


def _instance(ec2: Any, group_id: str, console: Console) -> dict[str, Any]:
    """A running instance tagged quickstart, launched if there is none. One launched
    before the key pair was made holds a key whose private half is lost: it can no
    longer be logged in to, so it is replaced."""
    key_made = ec2.describe_key_pairs(KeyNames=[KEY_NAME])["KeyPairs"][0]["CreateTime"]
    found = ec2.describe_instances(
        Filters=[
            {"Name": "tag:Name", "Values": [KEY_NAME]},
            {"Name": "instance-state-name", "Values": ["pending", "running"]},
        ]
    )["Reservations"]
    live = [i for r in found for i in r["Instances"]]
    stale = [i["InstanceId"] for i in live if i["LaunchTime"] < key_made]
    if stale:
        console.print(f"terminating {', '.join(stale)}: its private key was lost")
        ec2.terminate_instances(InstanceIds=stale)
        ec2.get_waiter("instance_terminated").wait(
            InstanceIds=stale, WaiterConfig={"Delay": 1, "MaxAttempts": 120}
        )
    usable = [i for i in live if i["InstanceId"] not in stale]
    if usable:
        instance: dict[str, Any] = usable[0]
        console.print(f"instance [bold]{instance['InstanceId']}[/] is already running")
    else:
        image = ec2.describe_images(Filters=[{"Name": "name", "Values": ["debian-12"]}])
        instance = ec2.run_instances(
            ImageId=image["Images"][0]["ImageId"],
            InstanceType="t3.micro",
            KeyName=KEY_NAME,
            SecurityGroupIds=[group_id],
            MinCount=1,
            MaxCount=1,
            TagSpecifications=[
                {"ResourceType": "instance", "Tags": [{"Key": "Name", "Value": KEY_NAME}]}
            ],
        )["Instances"][0]
        console.print(f"launched instance [bold]{instance['InstanceId']}[/] (t3.micro, debian-12)")
        _forget_host(instance["PrivateIpAddress"], console)
    ec2.get_waiter("instance_running").wait(
        InstanceIds=[instance["InstanceId"]], WaiterConfig={"Delay": 1, "MaxAttempts": 120}
    )
    described = ec2.describe_instances(InstanceIds=[instance["InstanceId"]])
    result: dict[str, Any] = described["Reservations"][0]["Instances"][0]
    return result


def _forget_host(address: str, console: Console) -> None:
    """Drop an earlier instance's host key for this address from ~/.ssh/known_hosts, as
    one does on EC2 when an address is reused (runs ssh-keygen)."""
    known = Path(pwd.getpwuid(os.getuid()).pw_dir) / ".ssh" / "known_hosts"  # as ssh finds it
    if not known.exists():
        return
    result = subprocess.run(
        ["ssh-keygen", "-R", address, "-f", str(known)], capture_output=True, check=False
    )
    if result.returncode == 0 and b"updated" in result.stdout + result.stderr:
        console.print(f"removed an older host key for {address} from {known}")


def _ssh(pem: Path, address: str, command: str, console: Console) -> None:
    """Show the ssh command, then prove it by running ``command`` (runs ssh)."""
    options = ["-o", "StrictHostKeyChecking=accept-new", "-o", "ConnectTimeout=10"]
    login = f"ssh -i {pem} admin@{address}"
    console.print(f"\nlog in with:\n  [bold]{login}[/]")
    console.print(f"\n[bold]$ {login} {command!r}[/]")
    for _attempt in range(20):
        result = subprocess.run(
            ["ssh", "-i", str(pem), *options, f"admin@{address}", command],
            capture_output=True,
            text=True,
            check=False,
            timeout=60,
        )
        if result.returncode == 0:
            console.print(result.stdout.rstrip(), markup=False, highlight=False)
            return
        time.sleep(0.5)
    console.print(result.stderr.rstrip(), style="red", markup=False)
    raise SystemExit(1)


def _reachable(address: str, port: int, timeout: float = 1.0) -> bool:
    """Whether a TCP connection to address:port opens (opens a socket)."""
    try:
        with socket.create_connection((address, port), timeout=timeout):
            return True
    except OSError:
        return False


def _firewall_demo(ec2: Any, pem: Path, address: str, group_id: str, console: Console) -> None:
    """Serve on 8080 inside the instance, show the group blocking it, then admit it."""
    console.print("\n[bold]The security group at work[/]")
    rule = {
        "IpProtocol": "tcp",
        "FromPort": 8080,
        "ToPort": 8080,
        "IpRanges": [{"CidrIp": "0.0.0.0/0"}],
    }
    with contextlib.suppress(ClientError):  # a second run starts from a closed port again
        ec2.revoke_security_group_ingress(GroupId=group_id, IpPermissions=[rule])
    options = ["-o", "StrictHostKeyChecking=accept-new"]
    subprocess.run(
        [
            "ssh",
            "-i",
            str(pem),
            *options,
            f"admin@{address}",
            "nohup python3 -m http.server 8080 >/dev/null 2>&1 &",
        ],
        check=True,
        capture_output=True,
        timeout=60,
    )
    time.sleep(0.5)
    verdict = "answers" if _reachable(address, 8080) else "is blocked by the security group"
    console.print(f"  python3 -m http.server 8080 runs inside; {address}:8080 {verdict}")
    ec2.authorize_security_group_ingress(GroupId=group_id, IpPermissions=[rule])
    console.print(f"  authorized tcp 8080 on {GROUP_NAME} through the API")
    for _attempt in range(20):
        if _reachable(address, 8080):
            console.print(f"  {address}:8080 answers now: curl http://{address}:8080/")
            return
        time.sleep(0.1)
    console.print(f"  [red]{address}:8080 still does not answer[/]")


def _aws(profile: str, *args: str, console: Console) -> None:
    """Run the AWS CLI and show its output (runs a process)."""
    aws = shutil.which("aws") or str(Path(sys.executable).parent / "aws")
    shown = " ".join(["aws", "--profile", profile, *args])
    console.print(f"\n[bold]$ {shown}[/]")
    result = subprocess.run(
        [aws, "--profile", profile, *args],
        capture_output=True,
        text=True,
        check=False,
        env=dict(os.environ),
    )
    console.print(result.stdout.rstrip(), markup=False, highlight=False)
    if result.returncode != 0:
        console.print(result.stderr.rstrip(), style="red", markup=False)
        raise SystemExit(result.returncode)


SAMPLE = "mysite"
_CHANGE = re.compile(r'        f"<p>changed at .*</p>\\n"\n')


def _main_job(profile: str, console: Console) -> str:
    """Scaffold the sample site (once), deploy it, change its code, deploy again: the
    seed's walkthrough, start to finish; the URL. Runs commands; writes ~/pocketcloud-sample."""
    from pocketcloud.cli import deploy as deploy_cli  # noqa: PLC0415 (keeps --help fast)
    from pocketcloud.deploy import deployer, scaffold  # noqa: PLC0415

    console.print("\n[bold]The main job: a Django site on an instance, the seed's way[/]")
    parent = Path.home() / "pocketcloud-sample"
    project = parent / SAMPLE
    if not project.exists():
        parent.mkdir(parents=True, exist_ok=True)
        scaffold.new_project(SAMPLE, parent, echo=lambda line: console.print(line, markup=False))
    opts = deployer.Options(profile=profile)
    record, _ = deployer.deploy(project, opts, deploy_cli.echo)
    if record is None:
        raise SystemExit(1)
    deploy_cli.show_site(record)
    console.print(
        "\n[bold]A code change, deployed again (the old release serves until the switch)[/]"
    )
    _change_code(project, console)
    record, _ = deployer.deploy(project, opts, deploy_cli.echo)
    if record is None:
        raise SystemExit(1)
    deploy_cli.show_site(record)
    return record.url


def _change_code(project: Path, console: Console) -> None:
    """Add (or update) a line of the home page and commit it, as a developer would."""
    views = project / "django_app" / SAMPLE / "views.py"
    line = f'        f"<p>changed at {time.strftime("%H:%M:%S")} and deployed again</p>\\n"\n'
    text = _CHANGE.sub("", views.read_text())
    anchor = '        f"<h1>Hello from {PROJECT}</h1>\\n"\n'
    if anchor in text:
        text = text.replace(anchor, anchor + line)
    else:  # the page was edited by hand: change the code all the same
        text += f"# changed at {time.strftime('%H:%M:%S')}\n"
    views.write_text(text)
    console.print(f"[cyan]$ $EDITOR {views.relative_to(project)}[/]  (a line added to the page)")
    console.print("[cyan]$ git commit -qam 'Change the home page'[/]")
    subprocess.run(
        ["git", "-c", "user.name=pocketcloud", "-c", "user.email=pocketcloud@localhost",
         "commit", "-qam", "Change the home page"],
        cwd=project, check=False, capture_output=True,
    )  # fmt: skip


def run(profile: str, pem: Path, console: Console) -> None:
    """The whole quickstart: key pair, security group, listing with the AWS CLI, next steps."""
    ec2 = boto3.Session(profile_name=profile).client("ec2")
    _key_pair(ec2, pem, console)
    group_id = _security_group(ec2, console)
    instance = _instance(ec2, group_id, console)
    _aws(profile, "ec2", "describe-key-pairs", "--key-names", KEY_NAME, console=console)
    _aws(
        profile,
        "ec2",
        "describe-security-groups",
        "--group-names",
        GROUP_NAME,
        "--query",
        "SecurityGroups[0].{GroupId:GroupId,Ingress:IpPermissions[].FromPort}",
        console=console,
    )
    _aws(
        profile,
        "ec2",
        "describe-instances",
        "--instance-ids",
        instance["InstanceId"],
        "--query",
        "Reservations[0].Instances[0].{Id:InstanceId,State:State.Name,"
        "Type:InstanceType,PublicIp:PublicIpAddress,Key:KeyName}",
        console=console,
    )
    _ssh(pem, instance["PublicIpAddress"], "hostname && uname -sr && sudo id -un", console)
    _firewall_demo(ec2, pem, instance["PublicIpAddress"], group_id, console)
    _main_job(profile, console)
    bin_dir = Path(sys.executable).parent
    console.print("\n[bold green]Your cloud is ready.[/] Try next:")
    for line in (
        f"source {bin_dir}/activate",
        f"aws --profile {profile} sts get-caller-identity",
        f"ssh -i {pem} admin@{instance['PublicIpAddress']}",
        f"aws --profile {profile} ec2 describe-instances",
        f"pocketcloud app status --app {SAMPLE}",
        f"pocketcloud releases --app {SAMPLE}",
        f"pocketcloud rollback --app {SAMPLE}",
        f"pocketcloud logs --app {SAMPLE} -f",
        "pocketcloud django new blog && pocketcloud deploy blog",
        f"aws --profile {profile} iam create-user --user-name alice",
        f"aws --profile {profile} ec2 create-key-pair --key-name mykey "
        "--query KeyMaterial --output text > mykey.pem && chmod 400 mykey.pem",
        "pocketcloud status",
        "pocketcloud down",
    ):
        console.print(f"  {line}")
