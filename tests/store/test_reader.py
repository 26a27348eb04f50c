"""The read-only reader explain (and through it the console) reads the state with: a real
database made by the store's own migrations, read back through the named queries."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from pocketcloud.store.reader import ReadError, RuleRecord, StateReader
from pocketcloud.store.sqlite import Store

ROWS = [
    "INSERT INTO meta VALUES ('account_id', '123456789012')",
    "INSERT INTO vpcs(vpc_id, cidr, is_default) VALUES ('vpc-1', '10.0.0.0/16', 1)",
    "INSERT INTO subnets VALUES ('subnet-1', 'vpc-1', '10.0.0.0/24', 'z1', 1, 1)",
    "INSERT INTO reservations VALUES ('r-1', NULL, 'me', 't0')",
    "INSERT INTO security_groups VALUES ('sg-web', 'web', 'web servers', 'vpc-1')",
    "INSERT INTO security_groups VALUES ('sg-db', 'db', 'databases', 'vpc-1')",
    "INSERT INTO security_group_rules VALUES"
    " ('sgr-out', 'sg-web', 1, '-1', -1, -1, '0.0.0.0/0', NULL, NULL, ''),"
    " ('sgr-ssh', 'sg-web', 0, 'tcp', 22, 22, '0.0.0.0/0', NULL, NULL, 'ssh'),"
    " ('sgr-v6', 'sg-web', 0, 'tcp', 80, 80, NULL, '::/0', NULL, ''),"
    " ('sgr-db', 'sg-db', 0, 'tcp', 5432, 5432, NULL, NULL, 'sg-web', '')",
    "INSERT INTO key_pairs VALUES ('key-1', 'k1', 'ed25519', 'SHA256:x', 'ssh-ed25519 A', 't1')",
    "INSERT INTO iam_users VALUES ('alice', 'AIDA1', '/', 't1')",
    "INSERT INTO iam_access_keys VALUES ('AKIAALICE', 's3cret', 'alice', 'Active', 't1')",
    "INSERT INTO iam_attachments VALUES"
    " ('user', 'alice', 'arn:aws:iam::aws:policy/AmazonEC2ReadOnlyAccess')",
    "INSERT INTO iam_inline_policies VALUES ('user', 'alice', 'own', '{\"Version\": 1}')",
]


def _launch(store: Store, iid: str, ip: str, state: str, launched: str) -> None:
    store.execute(
        "INSERT INTO instances(instance_id, reservation_id, launch_index, image_id,"
        " instance_type, key_name, subnet_id, private_ip, state, launch_time, state_changed)"
        " VALUES (?, 'r-1', 0, 'ami-1', 't3.micro', 'k1', 'subnet-1', ?, ?, ?, ?)",
        (iid, ip, state, launched, launched),
    )


@pytest.fixture
def database(tmp_path: Path) -> Path:
    """A cloud's database: a running web instance (two groups, an Elastic IP, tagged as
    the app "blog"), a newer stopped one of the same app, an older terminated one."""
    path = tmp_path / "pocketcloud.db"
    store = Store(path)
    try:
        for sql in ROWS:
            store.execute(sql)
        _launch(store, "i-web", "10.0.0.5", "running", "t2")
        _launch(store, "i-stopped", "10.0.0.6", "stopped", "t3")
        _launch(store, "i-gone", "10.0.0.5", "terminated", "t0")
        for iid, group, position in [("i-web", "sg-db", 1), ("i-web", "sg-web", 0)]:
            store.execute("INSERT INTO instance_groups VALUES (?, ?, ?)", (iid, group, position))
        store.execute("INSERT INTO instance_groups VALUES ('i-gone', 'sg-web', 0)")
        for iid in ("i-web", "i-stopped"):
            store.execute("INSERT INTO tags VALUES (?, 'pocketcloud:app', 'blog')", (iid,))
        store.execute("INSERT INTO tags VALUES ('i-web', 'Name', 'web')")
        store.execute(
            "INSERT INTO addresses VALUES ('eipalloc-1', '198.51.100.7', 'a-1', 'i-web', 't')"
        )
    finally:
        store.close()
    return path


@pytest.fixture
def reader(database: Path) -> Iterator[StateReader]:
    with StateReader(database) as opened:
        yield opened


class TestOpening:
    """The reader opens the database read-only, and says so when it cannot."""

    def test_missing_database(self, tmp_path: Path) -> None:
        """A database that does not exist is a ReadError, and reading does not create it."""
        missing = tmp_path / "pocketcloud.db"
        with pytest.raises(ReadError, match="cannot read"):
            StateReader(missing)
        assert not missing.exists()

    def test_damaged_database(self, tmp_path: Path) -> None:
        """A file that is no database is a ReadError at the first query, not a sqlite3 error."""
        damaged = tmp_path / "pocketcloud.db"
        damaged.write_bytes(b"not a database" * 100)
        with StateReader(damaged) as broken, pytest.raises(ReadError):
            broken.account_id()

    def test_changes_nothing(self, database: Path, reader: StateReader) -> None:
        """Reading every query leaves the database file as it was."""
        before = database.read_bytes()
        reader.instances()
        reader.security_groups()
        reader.users()
        assert database.read_bytes() == before


class TestInstances:
    """Instances with their VPC, groups, tags and Elastic IP."""

    def test_instances(self, reader: StateReader) -> None:
        """Every instance not terminated, in launch order, groups in their own order."""
        found = reader.instances()
        assert [i.instance_id for i in found] == ["i-web", "i-stopped"]
        web = found[0]
        assert (web.vpc_id, web.map_public_ip, web.elastic_ip) == ("vpc-1", True, "198.51.100.7")
        assert web.group_ids == ("sg-web", "sg-db")
        assert dict(web.tags) == {"Name": "web", "pocketcloud:app": "blog"}

    def test_instance(self, reader: StateReader) -> None:
        """One instance by id, terminated ones too; None for an unknown id."""
        gone = reader.instance("i-gone")
        assert gone is not None
        assert (gone.state, gone.elastic_ip) == ("terminated", None)
        assert reader.instance("i-nope") is None

    def test_tagged_running_first(self, reader: StateReader) -> None:
        """The instances of an app: a running one before a newer stopped one."""
        assert reader.instances_tagged("pocketcloud:app", "blog") == ("i-web", "i-stopped")
        assert reader.instances_tagged("pocketcloud:app", "other") == ()

    def test_instance_at(self, reader: StateReader) -> None:
        """A private address finds the live instance before a terminated one that had it;
        an Elastic IP finds the instance it is associated with."""
        assert reader.instance_at("10.0.0.5") == "i-web"
        assert reader.instance_at("198.51.100.7") == "i-web"
        assert reader.instance_at("10.9.9.9") is None


class TestGroups:
    """Security groups, their rules and members."""

    def test_security_groups(self, reader: StateReader) -> None:
        """By name; ingress rules before egress; members are instances not terminated."""
        db, web = reader.security_groups()
        assert (db.name, db.instance_ids) == ("db", ("i-web",))
        assert db.rules[0].ref_group_id == "sg-web"
        assert [r.rule_id for r in web.rules] == ["sgr-ssh", "sgr-v6", "sgr-out"]
        assert web.instance_ids == ("i-web",)

    def test_ipv4_rules(self, reader: StateReader) -> None:
        """The IPv4 rules of some groups in one direction (the firewall's IPv4 table)."""
        ingress = reader.ipv4_rules(["sg-web", "sg-db"], egress=False)
        assert sorted(r.rule_id for r in ingress) == ["sgr-db", "sgr-ssh"]
        assert reader.ipv4_rules(["sg-web"], egress=True) == (
            RuleRecord("sgr-out", "sg-web", True, "-1", -1, -1, "0.0.0.0/0", None, None),
        )
        assert reader.ipv4_rules([], egress=False) == ()


class TestAccountAndIam:
    """The account, key pairs and IAM users — never a secret."""

    def test_account_and_keys(self, reader: StateReader) -> None:
        """The account id, and each key pair without its public key."""
        assert reader.account_id() == "123456789012"
        assert [(k.name, k.fingerprint) for k in reader.key_pairs()] == [("k1", "SHA256:x")]

    def test_users(self, reader: StateReader) -> None:
        """A user's path, policies and access key ids and status; the key's owner."""
        (alice,) = reader.users()
        assert (alice.name, alice.path, alice.inline) == ("alice", "/", ("own",))
        assert alice.attached == ("arn:aws:iam::aws:policy/AmazonEC2ReadOnlyAccess",)
        assert alice.access_keys == (("AKIAALICE", "Active"),)
        assert "s3cret" not in repr(alice)
        assert reader.user_of_key("AKIAALICE") == "alice"
        assert reader.user_of_key("AKIANOBODY") is None

    def test_policies(self, reader: StateReader) -> None:
        """Inline documents by owner; an AWS managed policy has no stored document."""
        assert reader.inline_policies("user", "alice") == (("own", '{"Version": 1}'),)
        assert reader.groups_of_user("alice") == ()
        assert reader.policy_document("arn:aws:iam::aws:policy/AmazonEC2ReadOnlyAccess") is None
