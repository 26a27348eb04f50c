"""What the server acknowledged survives a restart, even a kill -9."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.plugin.clouds import Server, make_server, running

pytestmark = pytest.mark.live


@pytest.fixture
def own_server(tmp_path: Path) -> Iterator[Server]:
    """A server of this test's own, so it can be killed."""
    srv = make_server(tmp_path)
    yield from running(srv)


class TestRestart:
    @pytest.mark.parametrize("kill", [False, True], ids=["sigterm", "sigkill"])
    def test_acknowledged_state_survives(self, own_server: Server, kill: bool) -> None:
        """Key pairs, groups, rules, tags and IAM users outlive the server process."""
        ec2, iam = own_server.client("ec2"), own_server.client("iam")
        made = ec2.create_key_pair(KeyName="survivor")
        gid = ec2.create_security_group(GroupName="survivors", Description="s")["GroupId"]
        ec2.authorize_security_group_ingress(
            GroupId=gid,
            IpPermissions=[
                {
                    "IpProtocol": "tcp",
                    "FromPort": 22,
                    "ToPort": 22,
                    "IpRanges": [{"CidrIp": "0.0.0.0/0"}],
                }
            ],
        )
        ec2.create_tags(Resources=[gid], Tags=[{"Key": "k", "Value": "v"}])
        iam.create_user(UserName="survivor")
        own_server.stop(kill=kill)
        own_server.start()
        ec2, iam = own_server.client("ec2"), own_server.client("iam")
        pair = ec2.describe_key_pairs(KeyNames=["survivor"])["KeyPairs"][0]
        assert pair["KeyFingerprint"] == made["KeyFingerprint"]
        group = ec2.describe_security_groups(GroupIds=[gid])["SecurityGroups"][0]
        assert group["IpPermissions"][0]["FromPort"] == 22
        assert group["Tags"] == [{"Key": "k", "Value": "v"}]
        assert iam.get_user(UserName="survivor")["User"]["UserName"] == "survivor"
