"""The console's pure parts: rule rows, apps among instances, the session table, the
CLI's URL."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from pocketcloud.api.console.apps import App, apps_of
from pocketcloud.api.console.sections import RuleRow, rule_rows, tag
from pocketcloud.api.console.sessions import Sessions, Throttle
from pocketcloud.cli import console as console_cli
from pocketcloud.config import Paths
from pocketcloud.errors import ClientError


class TestRuleRows:
    def test_one_row_per_peer_inbound_first(self) -> None:
        """A permission with a CIDR and a source group gives one row each; inbound rows
        come before outbound ones."""
        group = {
            "IpPermissionsEgress": [{"IpProtocol": "-1", "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}],
            "IpPermissions": [
                {
                    "IpProtocol": "tcp",
                    "FromPort": 22,
                    "ToPort": 22,
                    "IpRanges": [{"CidrIp": "10.0.0.0/8", "Description": "office"}],
                    "UserIdGroupPairs": [{"GroupId": "sg-1"}],
                }
            ],
        }
        assert [r.text for r in rule_rows(group)] == [
            "tcp 22 from 10.0.0.0/8",
            "tcp 22 from sg-1",
            "all to 0.0.0.0/0",
        ]
        assert rule_rows(group)[0].description == "office"

    def test_ranges_and_icmp(self) -> None:
        """Port ranges show as low-high, the whole TCP range as all ports, ICMP as its
        type and code."""
        perms = [
            {"IpProtocol": "udp", "FromPort": 8000, "ToPort": 8100},
            {"IpProtocol": "tcp", "FromPort": 0, "ToPort": 65535},
            {"IpProtocol": "icmp", "FromPort": 8, "ToPort": 0},
            {"IpProtocol": "icmp", "FromPort": -1, "ToPort": -1},
        ]
        for perm in perms:
            perm["IpRanges"] = [{"CidrIp": "1.2.3.4/32"}]  # type: ignore[assignment]
        rows = rule_rows({"IpPermissions": perms})
        assert [(r.protocol, r.ports) for r in rows] == [
            ("udp", "8000-8100"),
            ("tcp", "all"),
            ("icmp", "type 8 code 0"),
            ("icmp", "all"),
        ]

    def test_outbound_text_says_to(self) -> None:
        """An outbound rule reads "to" its peer."""
        assert RuleRow("outbound", "tcp", "443", "0.0.0.0/0").text == "tcp 443 to 0.0.0.0/0"


class TestAppsOf:
    def test_tagged_live_instances_are_apps(self) -> None:
        """Instances tagged pocketcloud:app are apps, named by the tag, with the URL of
        their public address; untagged and terminated instances are not."""

        def instance(iid: str, state: str, app: str | None, ip: str | None) -> dict[str, object]:
            tags = [{"Key": "pocketcloud:app", "Value": app}] if app else []
            out: dict[str, object] = {"InstanceId": iid, "State": {"Name": state}, "Tags": tags}
            if ip:
                out["PublicIpAddress"] = ip
            return out

        found = apps_of(
            [
                instance("i-1", "running", "shop", "10.0.0.5"),
                instance("i-2", "running", None, "10.0.0.6"),
                instance("i-3", "terminated", "old", None),
                instance("i-4", "stopped", "blog", None),
            ]
        )
        assert found == [
            App("blog", "i-4", "stopped", None),
            App("shop", "i-1", "running", "10.0.0.5"),
        ]
        assert found[1].url == "http://10.0.0.5/"
        assert found[0].url is None

    def test_tag_lookup(self) -> None:
        """tag() reads one key of an EC2 Tags list, None when absent."""
        item = {"Tags": [{"Key": "Name", "Value": "web"}]}
        assert tag(item, "Name") == "web"
        assert tag(item, "Other") is None
        assert tag({}, "Name") is None


class TestSessions:
    def test_open_close(self) -> None:
        """An opened session gives its key until it is closed; ids are random and long."""
        table = Sessions()
        sid = table.open("AKIA1")
        assert len(sid) >= 40
        assert sid != table.open("AKIA1")
        assert table.key_of(sid) == "AKIA1"
        table.close(sid)
        assert table.key_of(sid) is None
        assert table.key_of("made-up") is None

    def test_expiry(self) -> None:
        """A session older than its lifetime is gone."""
        now = [100.0]
        table = Sessions(lifetime=60, clock=lambda: now[0])
        sid = table.open("AKIA1")
        now[0] += 59
        assert table.key_of(sid) == "AKIA1"
        now[0] += 2
        assert table.key_of(sid) is None

    def test_expired_sessions_are_dropped(self) -> None:
        """Opening a session drops the expired ones nobody came back for."""
        now = [0.0]
        table = Sessions(lifetime=60, clock=lambda: now[0])
        table.open("AKIA1")
        table.open("AKIA2")
        now[0] = 61
        table.open("AKIA3")
        assert len(table) == 1


class TestThrottle:
    def test_too_many_failures_are_refused_for_a_while(self) -> None:
        """Past the limit of failed sign-ins in the window, an address is refused with
        RequestLimitExceeded; other addresses are not; the window passing lifts it."""
        now = [0.0]
        throttle = Throttle(limit=3, window=60, clock=lambda: now[0])
        for _ in range(3):
            throttle.check("10.0.0.1")
            throttle.failed("10.0.0.1")
            now[0] += 1
        with pytest.raises(ClientError) as raised:
            throttle.check("10.0.0.1")
        assert raised.value.code == "RequestLimitExceeded"
        assert raised.value.status == 429
        throttle.check("10.0.0.2")
        now[0] = 60.5  # the first failure is a window old
        throttle.check("10.0.0.1")


class TestCli:
    def test_prints_the_url(self, tmp_path: Path) -> None:
        """`pocketcloud console` prints the console's URL from the cloud's settings and
        says when the cloud does not answer."""
        Paths(tmp_path).database.touch()
        Paths(tmp_path).config.write_text(json.dumps({"host": "127.0.0.1", "port": 1}))
        app = typer.Typer()
        console_cli.register(app)
        app.command("other")(lambda: None)  # two commands: typer keeps the subcommand name
        result = CliRunner().invoke(app, ["console", "--state-dir", str(tmp_path)])
        assert result.exit_code == 0, result.output
        assert result.stdout.strip() == "http://127.0.0.1:1/console/"
        assert "not running" in result.stderr

    def test_no_cloud(self, tmp_path: Path) -> None:
        """Without a cloud in the state directory it says so and fails, no traceback."""
        app = typer.Typer()
        console_cli.register(app)
        app.command("other")(lambda: None)
        result = CliRunner().invoke(app, ["console", "--state-dir", str(tmp_path)])
        assert result.exit_code == 1
        assert "pocketcloud init" in result.stderr
