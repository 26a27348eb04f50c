"""The instance metadata service, from inside real instances (IMDSv1 and IMDSv2)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.plugin.instances import Machine, launch

pytestmark = [pytest.mark.live, pytest.mark.needs_root]

IMDS = "http://169.254.169.254"
BOOT = f"#!/bin/sh\ncurl -s {IMDS}/latest/meta-data/instance-id > /srv/imds-at-boot\n"


@pytest.fixture(scope="module")
def pair(ec2: Any, image_id: str, key: tuple[str, Path]) -> tuple[Machine, Machine]:
    """Two instances: one with user data that reads IMDS at boot, one plain."""
    return launch(ec2, image_id, key, UserData=BOOT), launch(ec2, image_id, key)


def _get(m: Machine, path: str, token: str | None = None) -> str:
    header = f"-H 'X-aws-ec2-metadata-token: {token}'" if token else ""
    return m.ssh(f"curl -s -m 5 -w '\\n%{{http_code}}' {header} {IMDS}{path}")


class TestMetadata:
    def test_v1_answers_about_the_caller(self, pair: tuple[Machine, Machine], ec2: Any) -> None:
        """Each instance reads its own id, address, type, zone and key over IMDSv1."""
        for m in pair:
            instance = ec2.describe_instances(InstanceIds=[m.instance_id])["Reservations"][0][
                "Instances"
            ][0]
            assert _get(m, "/latest/meta-data/instance-id") == f"{m.instance_id}\n200"
            assert _get(m, "/latest/meta-data/local-ipv4") == f"{m.ip}\n200"
            assert _get(m, "/latest/meta-data/instance-type") == "t3.micro\n200"
            zone = instance["Placement"]["AvailabilityZone"]
            assert _get(m, "/latest/meta-data/placement/availability-zone") == f"{zone}\n200"
            assert _get(m, "/latest/meta-data/ami-id").startswith("ami-")
            key = _get(m, "/latest/meta-data/public-keys/0/openssh-key")
            assert key.startswith("ssh-ed25519 ")

    def test_v2_token(self, pair: tuple[Machine, Machine]) -> None:
        """A PUT token works for its instance; a bad token is 401; token TTL is required."""
        m, other = pair
        token = m.ssh(
            f"curl -s -m 5 -X PUT -H 'X-aws-ec2-metadata-token-ttl-seconds: 60' "
            f"{IMDS}/latest/api/token"
        ).strip()
        assert token
        assert _get(m, "/latest/meta-data/instance-id", token) == f"{m.instance_id}\n200"
        assert _get(m, "/latest/meta-data/instance-id", "bogus").endswith("401")
        assert _get(other, "/latest/meta-data/instance-id", token).endswith("401")
        no_ttl = m.ssh(
            f"curl -s -m 5 -o /dev/null -w '%{{http_code}}' -X PUT {IMDS}/latest/api/token"
        )
        assert no_ttl == "400"

    def test_user_data_and_boot_time_access(self, pair: tuple[Machine, Machine]) -> None:
        """User data is served, and the metadata service already answers while it runs."""
        m, other = pair
        assert _get(m, "/latest/user-data") == BOOT + "\n200"
        assert m.ssh("cat /srv/imds-at-boot") == m.instance_id
        assert _get(other, "/latest/user-data").endswith("404")

    def test_cannot_pose_as_another_instance(self, pair: tuple[Machine, Machine]) -> None:
        """Root inside cannot take another instance's address (the netns is the host's)."""
        m, other = pair
        result = m.ssh(f"sudo ip addr add {other.ip}/32 dev eth0 2>&1; echo rc=$?", check=False)
        assert "rc=0" not in result
        assert _get(m, "/latest/meta-data/instance-id") == f"{m.instance_id}\n200"
