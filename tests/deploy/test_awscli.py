"""The cloud targets' AWS calls as data: each renders the AWS CLI line that sends the very
parameters boto3 is given.

Checked three ways: against literal lines; through shell quoting (any text comes back as
one word); and through the AWS CLI's own parser, run in-process with a dummy profile in
temporary files and stopped before a request is built (no network). ``CloudApi`` talks to
botocore's Stubber, and every line it echoes is parsed by the CLI and compared with what
boto3 was asked to send.
"""

from __future__ import annotations

import shlex
import subprocess
from collections.abc import Iterator
from pathlib import Path, PurePosixPath
from typing import Any

import pytest
from awscli.clidriver import create_clidriver  # type: ignore[import-untyped]  # no py.typed
from botocore.stub import Stubber
from hypothesis import example, given, settings
from hypothesis import strategies as st

from pocketcloud.deploy import cloud
from pocketcloud.deploy.awscli import AwsCall, waiter
from pocketcloud.deploy.provision import (
    Names,
    authorize_ingress,
    create_key_pair,
    create_security_group,
    delete_key_pair,
    delete_security_group,
    run_instance,
    ssh_rule,
    start_instances,
    terminate_instances,
    wait_instance,
    web_rules,
)

NAMES = Names("shop")
PEM = PurePosixPath("/home/me/.ssh/shop.pem")
RULES = [*web_rules("nginx"), ssh_rule("198.51.100.4")]
AWS_ENV = ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_REGION", "AWS_DEFAULT_REGION",
           "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
           "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_EC2")  # fmt: skip

# (call, the line it renders for profile dev, the API operation the CLI sends)
LINES = [
    pytest.param(
        create_key_pair(NAMES, PEM),
        "aws --profile dev ec2 create-key-pair --key-name shop --key-type ed25519 "
        """--tag-specifications '[{"ResourceType":"key-pair","Tags":[{"Key":"Name","Value":"""
        """"shop"},{"Key":"pocketcloud:app","Value":"shop"}]}]' """
        "--query KeyMaterial --output text > /home/me/.ssh/shop.pem",
        "CreateKeyPair",
        id="key-pair",
    ),
    pytest.param(
        create_security_group(NAMES),
        "aws --profile dev ec2 create-security-group --group-name shop-web "
        "--description 'pocketcloud app shop: ssh and http' "
        """--tag-specifications '[{"ResourceType":"security-group","Tags":[{"Key":"Name","""
        """"Value":"shop"},{"Key":"pocketcloud:app","Value":"shop"}]}]'""",
        "CreateSecurityGroup",
        id="group",
    ),
    pytest.param(
        authorize_ingress("sg-1", RULES),
        "aws --profile dev ec2 authorize-security-group-ingress --group-id sg-1 "
        """--ip-permissions '[{"IpProtocol":"tcp","FromPort":80,"ToPort":80,"IpRanges":"""
        """[{"CidrIp":"0.0.0.0/0","Description":"http (nginx)"}]},{"IpProtocol":"tcp","""
        """"FromPort":22,"ToPort":22,"IpRanges":[{"CidrIp":"198.51.100.4/32","""
        """"Description":"ssh from the deploying machine"}]}]'""",
        "AuthorizeSecurityGroupIngress",
        id="authorize",
    ),
    pytest.param(
        run_instance(NAMES, "ami-1", "t3.micro", "sg-1"),
        "aws --profile dev ec2 run-instances --image-id ami-1 --instance-type t3.micro "
        "--key-name shop --security-group-ids sg-1 --count 1 "
        """--tag-specifications '[{"ResourceType":"instance","Tags":[{"Key":"Name","""
        """"Value":"shop"},{"Key":"pocketcloud:app","Value":"shop"}]}]'""",
        "RunInstances",
        id="run-instances",
    ),
    pytest.param(
        run_instance(NAMES, "ami-1", "t3.micro", "<new group>"),
        "aws --profile dev ec2 run-instances --image-id ami-1 --instance-type t3.micro "
        "--key-name shop --security-group-ids '<new group>' --count 1 "
        """--tag-specifications '[{"ResourceType":"instance","Tags":[{"Key":"Name","""
        """"Value":"shop"},{"Key":"pocketcloud:app","Value":"shop"}]}]'""",
        "RunInstances",
        id="run-instances-dry",
    ),
    pytest.param(
        start_instances(["i-1"]),
        "aws --profile dev ec2 start-instances --instance-ids i-1",
        "StartInstances",
        id="start",
    ),
    pytest.param(
        wait_instance("instance_running", "i-1"),
        "aws --profile dev ec2 wait instance-running --instance-ids i-1",
        "DescribeInstances",
        id="wait",
    ),
    pytest.param(
        terminate_instances(["i-1", "i-2"]),
        "aws --profile dev ec2 terminate-instances --instance-ids i-1 i-2",
        "TerminateInstances",
        id="terminate",
    ),
    pytest.param(
        delete_security_group("sg-1"),
        "aws --profile dev ec2 delete-security-group --group-id sg-1",
        "DeleteSecurityGroup",
        id="delete-group",
    ),
    pytest.param(
        delete_key_pair(NAMES),
        "aws --profile dev ec2 delete-key-pair --key-name shop",
        "DeleteKeyPair",
        id="delete-key",
    ),
]

# Text a shell or the CLI could misread: quotes, separators, substitutions, option dashes,
# paramfile prefixes, JSON brackets, whitespace; and any other character but NUL.
TRICKY = ["'", '"', ";", "$(id)", "`id`", "\\", "\n", " ", "\t", "-", "--x", "file://",
          "https://", "[", "{", "*", "~", "#", "&", "|", ">", "<", "!"]  # fmt: skip
TEXT = st.lists(
    st.sampled_from(TRICKY)
    | st.text(st.characters(exclude_categories=("Cs",), exclude_characters="\x00"), max_size=3),
    max_size=5,
).map("".join)
# Text the CLI takes as one word as it is (not an option-like ``-…``, not a paramfile
# prefix, which it would read; those go in --cli-input-json, tested with the CLI below)
WORD = TEXT.filter(lambda v: not v.startswith(("-", "file://", "fileb://", "http://", "https://")))
# ... and a list of such words, not starting with ``[…`` (alone, the CLI reads it as JSON)
IDS = st.lists(WORD, min_size=1, max_size=3).filter(lambda ids: not ids[0].strip().startswith("["))


class Stop(Exception):
    """Raised by the CLI capture to end a command before it builds a request."""


class AwsCli:
    """The AWS CLI, in-process: ``sent(argv)`` is the operation and parameters it would send."""

    def __init__(self) -> None:
        self.driver = create_clidriver()
        self.driver.session.register("before-parameter-build.ec2", self._stop)
        self.driver.session.register("top-level-args-parsed", self._options)
        self.found: tuple[str, dict[str, Any]] | None = None
        self.options: dict[str, Any] = {}

    def _stop(self, params: dict[str, Any], model: Any, **_: Any) -> None:
        self.found = (model.name, dict(params))
        raise Stop

    def _options(self, parsed_args: Any, **_: Any) -> None:
        self.options = vars(parsed_args)

    def sent(self, argv: list[str]) -> tuple[str, dict[str, Any]]:
        assert argv[0] == "aws"
        self.found = None
        try:
            code = self.driver.main(argv[1:])
        except SystemExit as exc:  # argparse refused the line
            code = exc.code
        assert self.found is not None, f"the CLI sent nothing (exit {code}): {argv}"
        return self.found


@pytest.fixture(scope="module")
def aws_env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Profile ``dev`` (dummy keys, us-east-1) in temporary files, no other AWS settings."""
    folder = tmp_path_factory.mktemp("aws")
    (folder / "config").write_text("[profile dev]\nregion = us-east-1\n")
    (folder / "credentials").write_text(
        "[dev]\naws_access_key_id = AKIDEXAMPLE\naws_secret_access_key = dummy\n"
    )
    with pytest.MonkeyPatch.context() as env:
        for name in AWS_ENV:
            env.delenv(name, raising=False)
        env.setenv("AWS_CONFIG_FILE", str(folder / "config"))
        env.setenv("AWS_SHARED_CREDENTIALS_FILE", str(folder / "credentials"))
        env.setenv("AWS_EC2_METADATA_DISABLED", "true")
        yield folder


@pytest.fixture(scope="module")
def aws(aws_env: Path) -> AwsCli:
    """The AWS CLI, in-process, with profile ``dev``."""
    return AwsCli()


def without_redirect(line: str, target: str) -> str:
    suffix = f" > {target}"
    assert line.endswith(suffix)
    return line.removesuffix(suffix)


class TestLines:
    """Each call CloudApi makes renders as a literal AWS CLI line."""

    @pytest.mark.parametrize(("call", "line", "operation"), LINES)
    def test_line(self, call: AwsCall, line: str, operation: str) -> None:
        """The full line: global options, command, every parameter boto3 is given."""
        assert call.cli("dev") == line

    def test_region(self) -> None:
        """A region goes after the profile, before the service."""
        line = delete_key_pair(NAMES).cli("dev", "eu-west-1")
        assert line == "aws --profile dev --region eu-west-1 ec2 delete-key-pair --key-name shop"

    def test_values_are_quoted(self) -> None:
        """Values with shell syntax are single-quoted words, including the redirect target."""
        call = AwsCall("create_key_pair", {"KeyName": "a b;$(x)"}, redirect="/tmp/it's.pem")
        assert call.cli("my profile") == (
            "aws --profile 'my profile' ec2 create-key-pair --key-name 'a b;$(x)' "
            """> '/tmp/it'"'"'s.pem'"""
        )

    def test_count_range(self) -> None:
        """run-instances takes the CLI's --count MIN:MAX for MinCount and MaxCount."""
        call = AwsCall("run_instances", {"ImageId": "ami-1", "MaxCount": 3, "MinCount": 2})
        assert call.cli("dev") == "aws --profile dev ec2 run-instances --image-id ami-1 --count 2:3"

    def test_booleans(self) -> None:
        """True is --flag, False --no-flag, or the CLI's rename of it (--ingress)."""
        entry = {"NetworkAclId": "acl-1", "RuleNumber": 100, "Protocol": "6",
                 "RuleAction": "allow", "CidrBlock": "0.0.0.0/0"}  # fmt: skip
        line = AwsCall("create_network_acl_entry", {**entry, "Egress": False, "DryRun": True})
        assert line.cli("dev") == (
            "aws --profile dev ec2 create-network-acl-entry --network-acl-id acl-1 "
            "--rule-number 100 --protocol 6 --rule-action allow --cidr-block 0.0.0.0/0 "
            "--ingress --dry-run"
        )
        assert AwsCall("start_instances", {"InstanceIds": ["i-1"], "DryRun": False}).cli("dev") == (
            "aws --profile dev ec2 start-instances --instance-ids i-1 --no-dry-run"
        )

    def test_misread_values_go_in_cli_input_json(self) -> None:
        """A value the CLI would take as an option, fetch as a file or URL, or miss (an
        empty list) is passed in --cli-input-json, which the CLI reads as is."""
        call = AwsCall(
            "create_security_group", {"GroupName": "-g", "Description": "file:///etc/passwd"}
        )
        assert call.cli("dev") == (
            "aws --profile dev ec2 create-security-group "
            """--cli-input-json '{"GroupName":"-g","Description":"file:///etc/passwd"}'"""
        )
        assert waiter("instance_running", InstanceIds=[]).cli("dev") == (
            """aws --profile dev ec2 wait instance-running --cli-input-json '{"InstanceIds":[]}'"""
        )

    @pytest.mark.parametrize(
        ("call", "error"),
        [
            (AwsCall("create_key_pair", {"KeyName": "k", "Name": "k"}), "no parameter Name"),
            (AwsCall("create_keypair", {}), "no operation create_keypair"),
            (waiter("instance_runing"), "no waiter instance_runing"),
            (AwsCall("run_instances", {"ImageId": "ami-1", "MinCount": 1}), "--count"),
        ],
    )
    def test_refuses_what_boto3_would_not_send(self, call: AwsCall, error: str) -> None:
        """A parameter or operation the service model lacks, or a count the CLI cannot say,
        is an error, never a line that differs from the call."""
        with pytest.raises(ValueError, match=error):
            call.cli("dev")


class TestQuoting:
    """Any text value survives the shell as exactly one word."""

    @given(name=WORD, description=WORD, ids=IDS)
    @settings(max_examples=200, deadline=None)
    def test_split_gives_the_words(self, name: str, description: str, ids: list[str]) -> None:
        """shlex.split of the line is the command's words, each value exactly one word."""
        group = AwsCall("create_security_group", {"GroupName": name, "Description": description})
        assert shlex.split(group.cli("dev")) == [
            "aws", "--profile", "dev", "ec2", "create-security-group",
            "--group-name", name, "--description", description,
        ]  # fmt: skip
        assert shlex.split(start_instances(ids).cli("dev")) == [
            "aws", "--profile", "dev", "ec2", "start-instances", "--instance-ids", *ids
        ]  # fmt: skip

    @given(name=TEXT, description=TEXT)
    @settings(max_examples=30, deadline=None)
    def test_a_real_shell_gives_the_words(self, name: str, description: str) -> None:
        """/bin/sh, given the line, passes each value to the command unchanged."""
        line = AwsCall("create_security_group", {"GroupName": name, "Description": description})
        shown = line.cli("dev").removeprefix("aws ")
        out = subprocess.run(
            ["sh", "-c", f"printf '%s\\0' {shown}"], capture_output=True, check=True
        ).stdout
        assert out.decode().split("\0")[:-1] == shlex.split(shown)


class TestAwsCliParses:
    """The AWS CLI, given the rendered line, would send exactly the call's parameters."""

    @pytest.mark.parametrize(("call", "line", "operation"), LINES)
    def test_line(self, aws: AwsCli, call: AwsCall, line: str, operation: str) -> None:
        """Each line CloudApi echoes is the request boto3 sends (a waiter's is its describe)."""
        shown = call.cli("dev")
        if call.redirect:
            shown = without_redirect(shown, call.redirect)
        assert aws.sent(shlex.split(shown)) == (operation, call.params)
        assert aws.options["profile"] == "dev"

    def test_global_options(self, aws: AwsCli) -> None:
        """Region, query and output reach the CLI as its global options."""
        shown = without_redirect(create_key_pair(NAMES, PEM).cli("dev", "eu-west-1"), str(PEM))
        assert aws.sent(shlex.split(shown))[0] == "CreateKeyPair"
        assert (aws.options["region"], aws.options["output"]) == ("eu-west-1", "text")
        assert aws.options["query"].expression == "KeyMaterial"  # jmespath, compiled

    def test_booleans_and_count(self, aws: AwsCli) -> None:
        """--ingress, --dry-run and --count 2:3 parse back to Egress, DryRun, Min/MaxCount."""
        entry = {"NetworkAclId": "acl-1", "RuleNumber": 100, "Protocol": "6",
                 "RuleAction": "allow", "CidrBlock": "0.0.0.0/0", "Egress": False,
                 "DryRun": True}  # fmt: skip
        acl = AwsCall("create_network_acl_entry", entry)
        assert aws.sent(shlex.split(acl.cli("dev"))) == ("CreateNetworkAclEntry", entry)
        run = AwsCall("run_instances", {"ImageId": "ami-1", "MinCount": 2, "MaxCount": 3})
        assert aws.sent(shlex.split(run.cli("dev"))) == ("RunInstances", run.params)

    @given(name=TEXT, description=TEXT, ids=st.lists(TEXT, max_size=3))
    @example(name="-g", description="file:///etc/passwd", ids=[])
    @example(name="https://127.0.0.1:1/x", description="[1]", ids=["[x"])
    @example(name="--", description="", ids=["-1", "fileb://x"])
    @settings(max_examples=60, deadline=None)
    def test_any_value(self, aws: AwsCli, name: str, description: str, ids: list[str]) -> None:
        """Whatever the text, the CLI parses the line into the call's very parameters."""
        group = AwsCall("create_security_group", {"GroupName": name, "Description": description})
        assert aws.sent(shlex.split(group.cli("dev"))) == ("CreateSecurityGroup", group.params)
        ended = terminate_instances(ids)
        assert aws.sent(shlex.split(ended.cli("dev"))) == ("TerminateInstances", ended.params)


INSTANCE = {"InstanceId": "i-1", "KeyName": "shop", "PublicIpAddress": "203.0.113.7"}


def running(state: str = "running") -> dict[str, Any]:
    return {"Reservations": [{"Instances": [{**INSTANCE, "State": {"Name": state}}]}]}


class TestCloudApi:
    """CloudApi echoes each call it makes as a line the CLI parses into what boto3 sent."""

    def api(self, echoed: list[str], dry_run: bool = False) -> tuple[cloud.CloudApi, Stubber]:
        api = cloud.CloudApi(cloud.target("pocketcloud", "dev", None), "shop",
                             lambda kind, text: echoed.append(text))  # fmt: skip
        return api, Stubber(api.ec2)

    def sent_by_boto3(self, api: cloud.CloudApi) -> list[tuple[str, dict[str, Any]]]:
        made: list[tuple[str, dict[str, Any]]] = []
        api.ec2.meta.events.register(
            "before-parameter-build.ec2",
            lambda params, model, **_: made.append((model.name, dict(params))),
        )
        return made

    def assert_echoes_match(
        self, aws: AwsCli, echoed: list[str], made: list[tuple[str, dict[str, Any]]], pem: Path
    ) -> None:
        """Each echoed aws line, parsed by the CLI, is the next matching call boto3 made;
        every call boto3 made that is not a describe was echoed."""
        lines = [line for line in echoed if line.startswith("aws ")]
        shown = [
            aws.sent(shlex.split(line.removesuffix(f" > {shlex.quote(str(pem))}")))
            for line in lines
        ]
        rest = iter(made)
        assert all(any(s == m for m in rest) for s in shown), (shown, made)
        changes = [m for m in made if not m[0].startswith(("Describe", "Get"))]
        assert changes == [s for s in shown if not s[0].startswith("Describe")]

    def test_deploy_and_destroy(self, aws: AwsCli, tmp_path: Path) -> None:
        """A fresh app: key pair, group, rules, instance, SSH rule; then its removal."""
        echoed: list[str] = []
        api, stub = self.api(echoed)
        made = self.sent_by_boto3(api)
        pem = tmp_path / "shop.pem"
        for method, answer in [
            ("describe_key_pairs", {"KeyPairs": []}),
            ("create_key_pair", {"KeyName": "shop", "KeyMaterial": "PRIVATE KEY"}),
            ("describe_security_groups", {"SecurityGroups": []}),
            ("create_security_group", {"GroupId": "sg-1"}),
            ("authorize_security_group_ingress", {"Return": True}),
            ("describe_instances", {"Reservations": []}),
            ("describe_images", {"Images": [{"ImageId": "ami-1", "CreationDate": "2024"}]}),
            ("run_instances", {"Instances": [{"InstanceId": "i-1", "State": {"Name": "pending"}}]}),
            ("describe_instances", running()),  # the waiter
            ("describe_instances", running()),
            ("describe_security_groups", {"SecurityGroups": [{"GroupId": "sg-1"}]}),
            ("authorize_security_group_ingress", {"Return": True}),
            ("describe_instances", running()),
            ("terminate_instances", {"TerminatingInstances": [{"InstanceId": "i-1"}]}),
            ("describe_instances", running("terminated")),  # the waiter
            ("describe_security_groups", {"SecurityGroups": [{"GroupId": "sg-1"}]}),
            ("delete_security_group", {}),
            ("delete_key_pair", {}),
        ]:
            stub.add_response(method, answer)
        with stub:
            api.key_pair(pem)
            assert pem.read_text() == "PRIVATE KEY"
            group_id = api.group("nginx")
            assert group_id == "sg-1"
            instance = api.instance(group_id)
            assert instance is not None
            assert instance["InstanceId"] == "i-1"
            api.open_ssh("sg-1", "198.51.100.4")
            api.destroy(pem)
            stub.assert_no_pending_responses()
        assert not pem.exists()
        assert f"chmod 400 {pem}" in echoed
        assert f"rm -f {pem}" in echoed
        self.assert_echoes_match(aws, echoed, made, pem)
        commands = [shlex.split(line)[4] for line in echoed if line.startswith("aws ")]
        assert commands == [
            "create-key-pair", "create-security-group", "authorize-security-group-ingress",
            "run-instances", "wait", "authorize-security-group-ingress",
            "terminate-instances", "wait", "delete-security-group", "delete-key-pair",
        ]  # fmt: skip

    def test_start_stopped(self, aws: AwsCli, tmp_path: Path) -> None:
        """A stopped instance: wait until stopped, start it, wait until running."""
        echoed: list[str] = []
        api, stub = self.api(echoed)
        made = self.sent_by_boto3(api)
        for method, answer in [
            ("describe_instances", running("stopped")),
            ("describe_instances", running("stopped")),  # the waiter
            ("start_instances", {"StartingInstances": [{"InstanceId": "i-1"}]}),
            ("describe_instances", running()),  # the waiter
            ("describe_instances", running()),
        ]:
            stub.add_response(method, answer)
        with stub:
            assert api.instance("sg-1") is not None
        self.assert_echoes_match(aws, echoed, made, tmp_path / "none.pem")
        assert [line.split(" ec2 ")[1] for line in echoed] == [
            "wait instance-stopped --instance-ids i-1",
            "start-instances --instance-ids i-1",
            "wait instance-running --instance-ids i-1",
        ]

    @pytest.mark.usefixtures("aws_env")
    def test_dry_run_makes_nothing(self, tmp_path: Path) -> None:
        """A dry run only describes; it shows the new group as '<new group>' in run-instances."""
        echoed: list[str] = []
        api, stub = self.api(echoed)
        made = self.sent_by_boto3(api)
        pem = tmp_path / "shop.pem"
        for method, answer in [
            ("describe_key_pairs", {"KeyPairs": []}),
            ("describe_security_groups", {"SecurityGroups": []}),
            ("describe_instances", {"Reservations": []}),
            ("describe_images", {"Images": [{"ImageId": "ami-1"}]}),
        ]:
            stub.add_response(method, answer)
        with stub:
            api.key_pair(pem, dry_run=True)
            assert api.group("nginx", dry_run=True) is None
            assert api.instance(None, dry_run=True) is None
        assert all(name.startswith("Describe") for name, _ in made)
        assert not pem.exists()
        assert echoed[-1] == (
            "aws --profile dev ec2 run-instances --image-id ami-1 --instance-type t3.micro "
            "--key-name shop --security-group-ids '<new group>' --count 1 "
            """--tag-specifications '[{"ResourceType":"instance","Tags":[{"Key":"Name","""
            """"Value":"shop"},{"Key":"pocketcloud:app","Value":"shop"}]}]'"""
        )
