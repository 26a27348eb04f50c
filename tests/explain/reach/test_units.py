"""``explain reach``'s pure parts: the rule evaluator, the listener and answer parsers,
and the verdicts decided from facts."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest
import typer

from pocketcloud.cli.explain_reach import reach
from pocketcloud.explain.reach import answers, decide, rules
from pocketcloud.explain.reach.facts import (
    Answer,
    Instance,
    Listener,
    ReachFacts,
    RouteCheck,
    RuleCheck,
    Source,
)
from pocketcloud.explain.reach.gather import default_port, parse_ss
from pocketcloud.host import firewall

ANY = "0.0.0.0"  # noqa: S104 (an address a socket is bound to)
LISTING = """table inet pc_fw {
\tset g_sg_1 {
\t\ttype ipv4_addr
\t\telements = { 10.0.0.5,
\t\t\t     10.0.0.6 }
\t}

\tchain in_i_1 {
\t\tct state established,related return
\t\tct state invalid drop
\t\tmeta nfproto ipv4 tcp dport 22 return
\t\tip saddr 10.99.0.0/24 tcp dport 8001 return
\t\tip saddr @g_sg_1 tcp dport 5000-5010 return
\t\tip saddr 169.254.1.1 meta l4proto udp return
\t\tdrop
\t}
}
"""


def packet(port: int, saddr: str = "169.254.1.1", protocol: str = "tcp") -> rules.Packet:
    """A new connection to 10.0.0.9."""
    return rules.Packet(saddr, "10.0.0.9", protocol, port)


class TestRules:
    """The evaluator of the rendered rule lines."""

    def test_parse_listing(self) -> None:
        """Chains keep their rule lines; sets their elements."""
        table = rules.parse_listing(LISTING)
        assert table.chains["in_i_1"][2] == "meta nfproto ipv4 tcp dport 22 return"
        assert table.chains["in_i_1"][-1] == "drop"
        assert table.sets["g_sg_1"] == frozenset({"10.0.0.5", "10.0.0.6"})

    def test_first_match(self) -> None:
        """A new connection skips the ct state lines, takes the first matching rule,
        and falls to the final drop when none admits it."""
        table = rules.parse_listing(LISTING)
        lines = table.chains["in_i_1"]
        assert rules.first_match(lines, packet(22), table.sets) == (lines[2], "return")
        assert rules.first_match(lines, packet(8001), table.sets) == ("drop", "drop")
        assert rules.first_match(lines, packet(8001, "10.99.0.7"), table.sets) == (
            lines[3],
            "return",
        )

    def test_group_sets_and_ranges(self) -> None:
        """A group-source rule matches the set's members within its port range."""
        table = rules.parse_listing(LISTING)
        lines = table.chains["in_i_1"]
        assert rules.first_match(lines, packet(5005, "10.0.0.6"), table.sets) == (
            lines[4],
            "return",
        )
        assert rules.first_match(lines, packet(5011, "10.0.0.6"), table.sets) == ("drop", "drop")
        assert rules.first_match(lines, packet(5005, "10.0.0.7"), table.sets) == ("drop", "drop")

    def test_protocols(self) -> None:
        """``meta l4proto udp`` admits UDP, not TCP."""
        table = rules.parse_listing(LISTING)
        lines = table.chains["in_i_1"]
        assert rules.first_match(lines, packet(53, protocol="udp"), table.sets) == (
            lines[5],
            "return",
        )
        assert rules.first_match(lines, packet(53), table.sets) == ("drop", "drop")

    def test_unknown_statement_never_matches(self) -> None:
        """A line the evaluator does not model is not taken for a match."""
        assert rules.parse_line("ip6 saddr ::1 return") is None
        assert rules.first_match(["ip6 saddr ::1 return"], packet(22), {}) is None

    def test_same_rule_as_rendered(self) -> None:
        """The kernel's printing of a rule maps back to the stored rule it was rendered
        from (/32 elided); a rule for another port or peer does not."""
        rendered = firewall.render_rule(firewall.Rule("tcp", 80, 80, "10.1.2.3/32"), "in")
        assert rules.same_rule(rendered, "ip saddr 10.1.2.3 tcp dport 80 return")
        assert not rules.same_rule(rendered, "ip saddr 10.1.2.3 tcp dport 81 return")
        anywhere = firewall.render_rule(firewall.Rule("tcp", 22, 22, "0.0.0.0/0"), "in")
        assert rules.same_rule(anywhere, "meta nfproto ipv4 tcp dport 22 return")
        grp = firewall.render_rule(firewall.Rule("tcp", 1, 9, group_id="sg-1"), "in")
        assert rules.same_rule(grp, "ip saddr @g_sg_1 tcp dport 1-9 return")


class TestParsers:
    """ss lines and raw answers."""

    def test_parse_ss(self) -> None:
        """Address, port, process and pid of each listening socket."""
        text = (
            'LISTEN 0 128 0.0.0.0:22 0.0.0.0:* users:(("sshd",pid=17,fd=3))\n'
            'LISTEN 0 10 127.0.0.1:8000 0.0.0.0:* users:(("python3",pid=99,fd=3))\n'
            'LISTEN 0 511 [::]:80 [::]:* users:(("nginx",pid=5,fd=7),("nginx",pid=6,fd=7))\n'
        )
        assert parse_ss(text) == (
            Listener(ANY, 22, "sshd", 17),
            Listener("127.0.0.1", 8000, "python3", 99),
            Listener("::", 80, "nginx", 5),
        )

    def test_classify(self) -> None:
        """A banner, a TLS record, an HTTP status with server and release, a silent close."""
        assert answers.classify(b"SSH-2.0-OpenSSH_9.2\r\n", b"").kind == "banner"
        assert answers.classify(b"", b"\x15\x03\x01\x00\x02\x02\x46").kind == "tls"
        got = answers.classify(
            b"",
            b"HTTP/1.1 502 Bad Gateway\r\nServer: nginx/1.22\r\n"
            b"X-Pocketcloud-Release: r1\r\n\r\n<h1>502</h1>",
        )
        assert (got.kind, got.status, got.server) == ("http", 502, "nginx/1.22")
        assert "release r1" in got.detail
        assert answers.classify(b"", b"").kind == "closed"


WEB = Instance("i-1", "running", "10.0.0.9", "vpc-1", ("sg-1",), app="mysite")
GOOD = ReachFacts(
    "i-1",
    8000,
    Source("host", "host", "169.254.1.1"),
    WEB,
    "10.0.0.9",
    RouteCheck(True, ("via veth",)),
    RuleCheck(True, True, "meta nfproto ipv4 tcp dport 8000 return", "sg-1", "sgr-1", "in_i_1"),
    None,
    (Listener(ANY, 8000, "python3", 9), Listener(ANY, 22, "sshd", 3)),
    Answer("http", 200, "SimpleHTTP", "HTTP/1.0 200 OK"),
)


class TestVerdicts:
    """Facts → layers → the first that blocks, with its fix."""

    def test_healthy(self) -> None:
        """Every layer passes: verdict "none", ok, the admitting rule's ids in evidence."""
        report = decide(GOOD)
        assert (report.verdict.layer, report.verdict.ok) == ("none", True)
        assert "sgr-1" in " ".join(report.layers[2].evidence)
        assert report.to_json()["verdict"]["layer"] == "none"
        assert "HTTP/1.0 200 OK" in report.verdict.summary

    def test_stopped(self) -> None:
        """A stopped instance: blocked at the instance, fix start-instances; the later
        layers are not reached."""
        report = decide(replace(GOOD, instance=replace(WEB, state="stopped")))
        assert report.verdict.layer == "instance"
        assert (
            report.verdict.fix == "aws --profile pocketcloud ec2 start-instances --instance-ids i-1"
        )
        assert [x.ok for x in report.layers[1:]] == [None] * 5

    def test_missing(self) -> None:
        """No such instance or app: blocked at the instance."""
        assert decide(replace(GOOD, instance=None)).verdict.layer == "instance"

    def test_no_rule(self) -> None:
        """No rule admits: the exact authorize command for the source's /32."""
        report = decide(replace(GOOD, ingress=RuleCheck(True, False, chain="in_i_1")))
        assert report.verdict.layer == "security-group"
        assert report.verdict.fix == (
            "aws --profile pocketcloud ec2 authorize-security-group-ingress --group-id sg-1"
            " --protocol tcp --port 8000 --cidr 169.254.1.1/32"
        )

    def test_no_rule_and_wrong_port(self) -> None:
        """No rule admits a port nothing listens on either: the verdict says both."""
        facts = replace(GOOD, port=8080, ingress=RuleCheck(True, False, chain="in_i_1"))
        report = decide(facts)
        assert report.verdict.layer == "security-group"
        assert "nothing listens on 8080" in report.verdict.summary
        assert "8000 (python3)" in " ".join(report.layers[2].evidence)

    def test_cidr_source_fix(self) -> None:
        """From a CIDR, the authorize command names that CIDR."""
        facts = replace(
            GOOD,
            source=Source("cidr", "203.0.113.0/24", "203.0.113.0"),
            ingress=RuleCheck(True, False),
        )
        assert "--cidr 203.0.113.0/24" in (decide(facts).verdict.fix or "")

    def test_egress(self) -> None:
        """The source instance's egress drops it: blocked at egress."""
        src = Instance("i-2", "running", "10.0.0.10", "vpc-1", ("sg-2",))
        facts = replace(
            GOOD,
            source=Source("instance", "i-2", "10.0.0.10", src),
            egress=RuleCheck(True, False, chain="out_i_2"),
        )
        report = decide(facts)
        assert report.verdict.layer == "egress"
        assert "authorize-security-group-egress --group-id sg-2" in (report.verdict.fix or "")

    def test_loopback(self) -> None:
        """runserver without 0: listens on 127.0.0.1 only."""
        facts = replace(GOOD, listeners=(Listener("127.0.0.1", 8000, "python", 4),))
        report = decide(facts)
        assert report.verdict.layer == "listener"
        assert "127.0.0.1" in report.verdict.summary
        assert "./manage.py runserver 0:8000" in (report.verdict.fix or "")

    def test_runserver_without_zero(self) -> None:
        """Django's runserver 8000 (no 0:): named as such, fix `runserver 0:8000`."""
        cmd = "/srv/venv/bin/python manage.py runserver 8000"
        facts = replace(GOOD, listeners=(Listener("127.0.0.1", 8000, "python", 4, cmd),))
        report = decide(facts)
        assert report.verdict.layer == "listener"
        assert "runserver without 0" in report.verdict.summary
        assert "`./manage.py runserver 0:8000`" in (report.verdict.fix or "")
        assert cmd in " ".join(report.layers[4].evidence)

    def test_instance_address_is_reachable(self) -> None:
        """A server bound to the instance's own address is reachable."""
        facts = replace(GOOD, listeners=(Listener("10.0.0.9", 8000, "python", 4),))
        assert decide(facts).verdict.ok

    def test_nothing_listens(self) -> None:
        """Wrong port: the ports that do listen are listed."""
        report = decide(replace(GOOD, listeners=(Listener(ANY, 22, "sshd", 3),)))
        assert report.verdict.layer == "listener"
        assert "22 (sshd)" in (report.verdict.fix or "")

    def test_disallowed_host(self) -> None:
        """Django's 400: add the Host to ALLOWED_HOSTS."""
        answer = Answer(
            "http", 400, "nginx", "HTTP/1.1 400 Bad Request", "<h1>Bad Request (400)</h1>"
        )
        report = decide(replace(GOOD, answer=answer, host_header="example.test"))
        assert report.verdict.layer == "answer"
        assert "ALLOWED_HOSTS" in (report.verdict.fix or "")
        assert "'example.test'" in (report.verdict.fix or "")

    def test_bad_gateway(self) -> None:
        """nginx's 502: gunicorn is down; the socket nginx proxies to is named."""
        answer = Answer("http", 502, "nginx/1.22.1", "HTTP/1.1 502 Bad Gateway", "")
        facts = replace(GOOD, answer=answer, upstream="unix:/srv/app/mysite/run/r1.sock")
        report = decide(facts)
        assert report.verdict.layer == "answer"
        assert "gunicorn" in report.verdict.summary
        assert "unix:/srv/app/mysite/run/r1.sock" in report.verdict.summary
        assert "pocketcloud logs --app mysite" in (report.verdict.fix or "")

    def test_not_found_is_said(self) -> None:
        """A 404 passes, and the verdict says so."""
        report = decide(replace(GOOD, answer=Answer("http", 404, "", "HTTP/1.0 404")))
        assert report.verdict.ok
        assert "404" in report.verdict.summary

    def test_tls(self) -> None:
        """TLS on a plain port, and plain HTTP sent to nginx's TLS port: use https."""
        report = decide(replace(GOOD, answer=Answer("tls")))
        assert report.verdict.layer == "answer"
        assert "https://" in (report.verdict.fix or "")
        plain = Answer("http", 400, "nginx", "", "The plain HTTP request was sent to HTTPS port")
        assert "https://" in (decide(replace(GOOD, answer=plain)).verdict.fix or "")

    def test_ssh_banner(self) -> None:
        """An SSH banner: ok, it is sshd, not HTTP."""
        report = decide(replace(GOOD, answer=Answer("banner", detail="SSH-2.0-OpenSSH_9.2")))
        assert report.verdict.ok
        assert "sshd" in report.verdict.summary

    def test_no_answer(self) -> None:
        """A connection closed without a word: blocked at the answer."""
        report = decide(replace(GOOD, answer=Answer("closed", detail="closed")))
        assert report.verdict.layer == "answer"

    def test_route(self) -> None:
        """A route that blocks (another VPC) is the verdict, with the route's fix."""
        route = RouteCheck(False, ("vpc-1 vs vpc-2",), "different VPCs", "use the Elastic IP")
        report = decide(replace(GOOD, route=route))
        assert (report.verdict.layer, report.verdict.fix) == ("route", "use the Elastic IP")

    def test_plain_http_on_https_port(self) -> None:
        """Plain HTTP answering on 443: blocked at the answer (a browser speaks TLS there)."""
        facts = replace(
            GOOD,
            port=443,
            listeners=(Listener(ANY, 443, "python3", 9),),
            answer=Answer("http", 200, "", "HTTP/1.1 200 OK"),
        )
        report = decide(facts)
        assert report.verdict.layer == "answer"
        assert "http://10.0.0.9:443/" in (report.verdict.fix or "")


class TestCommand:
    """The CLI's argument checks (before anything is read)."""

    def test_usage(self, tmp_path: Path) -> None:
        """A port that is no number, or too many words: exit 2 with the usage."""
        for args in (["i-1", "http"], ["i-1", "80", "extra"], []):
            with pytest.raises(typer.Exit) as raised:
                reach(args, None, False, tmp_path)
            assert raised.value.exit_code == 2

    def test_no_cloud(self, tmp_path: Path) -> None:
        """A state directory without a cloud: exit 2, nothing created."""
        with pytest.raises(typer.Exit) as raised:
            reach(["i-1", "80"], None, False, tmp_path)
        assert raised.value.exit_code == 2
        assert list(tmp_path.iterdir()) == []

    def test_default_port(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        """An app deployed with runserver answers on 8080; any other target on 80."""
        monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
        apps = tmp_path / "pocketcloud" / "apps"
        apps.mkdir(parents=True)
        (apps / "dev.json").write_text(json.dumps({"app": "dev", "mode": "runserver"}))
        (apps / "prod.json").write_text(json.dumps({"app": "prod", "mode": "gunicorn"}))
        assert default_port("dev") == 8080
        assert default_port("prod") == 80
        assert default_port("i-0123456789abcdef0") == 80
