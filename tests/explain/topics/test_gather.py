"""The pure parts of ``explain <topic>``'s gathering: ss and nft listings, the profile in use."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pocketcloud.explain.sockets import Socket, parse_ss
from pocketcloud.explain.topics.gather import _recorded_keys
from pocketcloud.explain.topics.gather_iam import profile_name
from pocketcloud.explain.topics.listings import parse_chains, parse_unix

SS = """\
LISTEN 0      128    0.0.0.0:22 0.0.0.0:* users:(("sshd",pid=17651,fd=3))
LISTEN 0      511    0.0.0.0:80 0.0.0.0:* users:(("nginx",pid=17657,fd=7),("nginx",pid=17653,fd=7))
LISTEN 0      5    127.0.0.1:8080 0.0.0.0:* users:(("python3",pid=300,fd=3))
LISTEN 0      4096 127.0.0.53%lo:53 0.0.0.0:*
LISTEN 0      128       [::]:22    [::]:* users:(("sshd",pid=17651,fd=4))
LISTEN 0      128          *:9000       *:*
"""

NFT = """\
table inet tq_fw {
\tset veths {
\t\ttype ifname
\t\telements = { "tq00000001h" }
\t}

\tchain in_i_00000000000000001 {
\t\tct state established,related return
\t\tmeta nfproto ipv4 tcp dport 8080 return
\t\tdrop
\t}

\tchain output {
\t\ttype filter hook output priority filter; policy accept;
\t\toifname vmap @ins
\t}
}
"""


class TestParsers:
    """Listings become values."""

    def test_ss(self) -> None:
        """Each listening socket: address (brackets and %interface stripped), port, and the
        processes holding it, each once, by pid."""
        found = parse_ss(SS)
        assert found[0] == Socket("tcp", "0.0.0.0", 22, (("sshd", 17651),))  # noqa: S104
        assert found[1].processes == (("nginx", 17653), ("nginx", 17657))
        assert found[2] == Socket("tcp", "127.0.0.1", 8080, (("python3", 300),))
        assert found[3] == Socket("tcp", "127.0.0.53", 53, ())
        assert (found[4].address, found[5].address) == ("::", "*")

    def test_unix(self) -> None:
        """Listening unix stream sockets: path and process."""
        line = (
            "u_str LISTEN 0 2048 /srv/app/blog/run/1.sock 3657037 * 0 "
            'users:(("gunicorn",pid=17685,fd=3),("gunicorn",pid=17654,fd=3))\n'
            "u_dgr UNCONN 0 0 /run/x 1 * 0\n"
        )
        assert parse_unix(line) == (("/srv/app/blog/run/1.sock", "gunicorn"),)

    def test_chains(self) -> None:
        """Each chain of a table listing with its rule lines (base chains' type line left
        out); sets are not chains."""
        chains = parse_chains(NFT)
        assert chains["in_i_00000000000000001"] == (
            "ct state established,related return",
            "meta nfproto ipv4 tcp dport 8080 return",
            "drop",
        )
        assert chains["output"] == ("oifname vmap @ins",)
        assert "veths" not in chains

    def test_profile(self) -> None:
        """AWS_PROFILE wins; else the profile pocketcloud init writes; else default."""
        assert profile_name({"AWS_PROFILE": "work"}, ["pocketcloud"]) == "work"
        assert profile_name({}, ["default", "pocketcloud"]) == "pocketcloud"
        assert profile_name({}, ["default"]) == "default"


class TestRecordedKeys:
    """A private key outside ~/.ssh is found through deploy's app records."""

    def test_from_app_record(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        """The record's key file, by its name, if it exists; a record naming a missing file
        or holding no JSON is passed over."""
        monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
        apps = tmp_path / "pocketcloud" / "apps"
        apps.mkdir(parents=True)
        pem = tmp_path / "blog.pem"
        pem.write_text("key")
        (apps / "blog.json").write_text(json.dumps({"app": "blog", "key": str(pem)}))
        (apps / "gone.json").write_text(json.dumps({"key": str(tmp_path / "gone.pem")}))
        (apps / "bad.json").write_text("{")
        assert _recorded_keys() == {"blog": str(pem)}
