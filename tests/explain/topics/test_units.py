"""``explain <topic>``: parsing the question, the language, and the pure rendering of
facts into Korean and English text and JSON."""

from __future__ import annotations

import json
import string

import pytest

from pocketcloud.explain.sockets import Socket
from pocketcloud.explain.topics import texts_en, texts_ko
from pocketcloud.explain.topics.facts import (
    App,
    CloudSnapshot,
    Group,
    Instance,
    KeyPair,
    Profile,
    Release,
    Rule,
    TopicFacts,
    User,
)
from pocketcloud.explain.topics.registry import (
    BY_WORD,
    TOPICS,
    Question,
    UnknownTopic,
    parse,
    render,
    unknown,
)
from pocketcloud.explain.topics.runserver import parse_runserver
from pocketcloud.explain.topics.texts import default_lang

NAMES = [topic.name for topic in TOPICS]
ANY = "0.0.0.0"  # noqa: S104 (a value in a fixture, nothing is bound)
CLOUD = CloudSnapshot(
    "/var/tmp/x/state",
    "up",
    77,
    "http://127.0.0.1:4800",
    4800,
    4801,
    "tq",
    "us-east-1",
    "123456789012",
    "tq_fw",
    (
        Socket("tcp", "127.0.0.1", 4800, (("python", 77),)),
        Socket("tcp", "169.254.1.1", 4801, (("python", 77),)),
    ),
)
OPEN = Instance(
    "i-00000000000000001",
    "running",
    "t3.micro",
    "10.9.0.5",
    "10.9.0.5",
    "k1",
    ("sg-web",),
    {"Name": "web", "pocketcloud:app": "blog"},
    "tq-00000001",
    "tq00000001h",
    "pocketcloud/tq/i-00000000000000001",
    "/var/tmp/x/state/instances/i-00000000000000001",
    "admin",
    501,
    (
        Socket("tcp", ANY, 22, (("sshd", 40),)),
        Socket("tcp", ANY, 8080, (("python3", 41),)),
        Socket("tcp", ANY, 80, (("nginx", 42), ("nginx", 43))),
    ),
)
LOCAL = Instance(
    "i-00000000000000002",
    "running",
    "t3.micro",
    "10.9.0.6",
    "10.9.0.6",
    "k1",
    ("sg-web",),
    {},
    "tq-00000002",
    "tq00000002h",
    "pocketcloud/tq/i-00000000000000002",
    "/w2",
    "admin",
    502,
    (Socket("tcp", ANY, 22, (("sshd", 50),)), Socket("tcp", "127.0.0.1", 8080, (("python3", 51),))),
)
STOPPED = Instance("i-00000000000000003", "stopped", "t3.micro", "10.9.0.7", None, None)
WEB = Group(
    "sg-web",
    "web",
    "web servers",
    "vpc-1",
    (
        Rule("sgr-ssh", "sg-web", False, "tcp", 22, 22, "0.0.0.0/0", None, None),
        Rule("sgr-web8080", "sg-web", False, "tcp", 8080, 8080, "0.0.0.0/0", None, None, "dev"),
        Rule("sgr-out", "sg-web", True, "-1", -1, -1, "0.0.0.0/0", None, None),
    ),
    (OPEN.instance_id, LOCAL.instance_id),
)
FACTS = TopicFacts(
    CLOUD,
    (OPEN, LOCAL, STOPPED),
    (WEB, Group("sg-empty", "empty", "", "vpc-1")),
    (KeyPair("k1", "key-1", "ed25519", "SHA256fp", "2026-01-01", "/root/.ssh/k1.pem"),),
    (
        User(
            "alice",
            "arn:aws:iam::123456789012:user/alice",
            (),
            ("arn:aws:iam::aws:policy/AmazonEC2ReadOnlyAccess",),
            (),
            (("AKIAALICE", "Active"),),
        ),
    ),
    Profile(
        "pocketcloud",
        "AKIAALICE",
        "alice",
        (("ec2:DescribeInstances", "allow"), ("ec2:RunInstances", "implicit_deny")),
    ),
    (
        App(
            "blog",
            OPEN.instance_id,
            (
                Release("20260101-000000-aaaaaaa", "c1", "gunicorn", False),
                Release("20260102-000000-bbbbbbb", "c2", "gunicorn", True),
            ),
            (("/srv/app/blog/run/20260102-000000-bbbbbbb.sock", "gunicorn"),),
        ),
    ),
    {
        "in_i_00000000000000001": (
            "ct state established,related return",
            "meta nfproto ipv4 tcp dport 8080 return",
            "drop",
        )
    },
)


def _text(words: list[str], lang: str, facts: TopicFacts = FACTS) -> str:
    return render(parse(words), facts, lang).text()


class TestRunserverArgument:
    """The runserver argument is read as Django reads it."""

    @pytest.mark.parametrize(
        ("written", "address", "port", "kind"),
        [
            ("0:8080", ANY, 8080, "all"),
            ("8080", "127.0.0.1", 8080, "loopback"),
            ("", "127.0.0.1", 8000, "loopback"),
            ("0.0.0.0:8000", ANY, 8000, "all"),
            ("[::]:8000", "::", 8000, "all"),
            ("[::1]:8000", "::1", 8000, "loopback"),
            ("localhost:8000", "localhost", 8000, "loopback"),
            ("10.0.0.5:80", "10.0.0.5", 80, "one"),
            ("example.com:80", "example.com", 80, "name"),
        ],
    )
    def test_address_and_port(self, written: str, address: str, port: int, kind: str) -> None:
        """ "0" is 0.0.0.0, a missing address is 127.0.0.1, a missing argument 127.0.0.1:8000;
        brackets hold an IPv6 address; the kind says who can connect."""
        bind = parse_runserver(written)
        assert (bind.address, bind.port, bind.kind) == (address, port, kind)
        assert bind.given_port == bool(written)

    @pytest.mark.parametrize("written", ["abc", ":8080", "0:", "0:99999", "0:0", "1.2.3.4:x"])
    def test_refused(self, written: str) -> None:
        """What Django refuses (or cannot bind) is a ValueError naming the argument."""
        with pytest.raises(ValueError, match="not a valid port"):
            parse_runserver(written)


class TestQuestion:
    """The words typed become a topic and what it is about."""

    def test_runserver_phrase(self) -> None:
        """One quoted phrase, separate words and the seed's full command line are the same
        question; runserver's own options are ignored."""
        expected = parse(["runserver", "0:8080"])
        assert expected.topic == "runserver"
        assert expected.bind is not None
        assert expected.bind.address == ANY
        for words in (
            ["runserver 0:8080"],
            ["./manage.py", "runserver", "0:8080"],
            ["python3 manage.py runserver --noreload 0:8080"],
        ):
            assert parse(words) == expected

    def test_aliases(self) -> None:
        """Short, plural and Korean names lead to the topic."""
        assert parse(["sg"]).topic == "security-group"
        assert parse(["보안그룹"]).topic == "security-group"
        assert parse(["keypair"]).topic == "key-pair"
        assert parse(["Instances"]).topic == "instance"
        assert parse(["security-group", "sg-web"]) == Question("security-group", "sg-web")

    @pytest.mark.parametrize("words", [["nope"], [], ["port", "80", "90"], ["manage.py"]])
    def test_unknown(self, words: list[str]) -> None:
        """Words that name no topic are UnknownTopic; its message lists every topic."""
        with pytest.raises(UnknownTopic):
            parse(words)
        for lang in ("en", "ko"):
            text = unknown(lang, "nope")
            assert all(t in text for t in NAMES)
            assert "'runserver 0:8080'" in text


class TestRegistry:
    """One Topic record per topic: its words, facts, title and rendering together."""

    def test_each_word_names_one_topic(self) -> None:
        """No two topics share a name or an alias, and every word leads to its topic."""
        words = [word for topic in TOPICS for word in (topic.name, *topic.aliases)]
        assert len(words) == len(set(words)) == len(BY_WORD)
        for topic in TOPICS:
            assert all(parse([word]).topic == topic.name for word in topic.aliases)

    def test_titles_exist_in_both_languages(self) -> None:
        """Each topic's title is a text in Korean and in English."""
        for topic in TOPICS:
            assert topic.title in texts_en.MESSAGES
            assert topic.title in texts_ko.MESSAGES


class TestLanguage:
    """The default language follows the locale that governs messages."""

    @pytest.mark.parametrize(
        ("env", "lang"),
        [
            ({"LANG": "ko_KR.UTF-8"}, "ko"),
            ({"LC_MESSAGES": "ko_KR.UTF-8", "LANG": "en_US.UTF-8"}, "ko"),
            ({"LC_ALL": "ko_KR.UTF-8", "LANG": "C"}, "ko"),
            ({"LC_ALL": "C.UTF-8", "LANG": "ko_KR.UTF-8"}, "en"),
            ({"LANG": "en_US.UTF-8"}, "en"),
            ({"LC_ALL": "", "LANG": "ko"}, "ko"),
            ({}, "en"),
        ],
    )
    def test_default(self, env: dict[str, str], lang: str) -> None:
        """The first set of LC_ALL, LC_MESSAGES, LANG decides; "ko..." is Korean."""
        assert default_lang(env) == lang

    def test_same_templates(self) -> None:
        """Both languages have the same keys; a Korean template uses only placeholders
        the English one has (a translation may leave one out, never invent one)."""
        assert set(texts_en.MESSAGES) == set(texts_ko.MESSAGES)
        fields = string.Formatter()
        for key, english in texts_en.MESSAGES.items():
            ours = {f for _, f, _, _ in fields.parse(english) if f}
            theirs = {f for _, f, _, _ in fields.parse(texts_ko.MESSAGES[key]) if f}
            assert theirs <= ours, key


class TestRunserverRendering:
    """``runserver 0:8080`` explained with the instances' sockets and the group's rules."""

    def test_english(self) -> None:
        """0 and 8080 are explained; the listeners, the rule and the URL are named."""
        text = _text(["runserver 0:8080"], "en")
        assert "0         = 0.0.0.0: every address of the instance" in text
        assert "8080      = the TCP port" in text
        assert f"{OPEN.instance_id} 0.0.0.0:8080  python3 (pid 41)" in text
        assert f"{LOCAL.instance_id} 127.0.0.1:8080  python3 (pid 51)  - loopback only" in text
        assert "sg-web (web) rule sgr-web8080: tcp 8080 from 0.0.0.0/0" in text
        assert "http://10.9.0.5:8080/  answers now to connections from 0.0.0.0/0" in text
        assert "http://10.9.0.6:8080/  does not answer" in text

    def test_korean(self) -> None:
        """The same facts, in Korean."""
        text = _text(["runserver", "0:8080"], "ko")
        assert "0         = 0.0.0.0: 인스턴스의 모든 주소" in text
        assert "루프백 전용" in text
        assert "sgr-web8080" in text
        assert "http://10.9.0.5:8080/  출발지 0.0.0.0/0의 연결에 지금 응답합니다" in text

    def test_data(self) -> None:
        """--json: the bind, the listeners, the rules and each URL's status."""
        data = render(parse(["runserver 0:8080"]), FACTS, "en").to_json()
        facts = data["facts"]
        assert facts["bind"]["address"] == ANY
        assert facts["bind"]["kind"] == "all"
        assert [r["rule_id"] for r in facts["rules"]] == ["sgr-web8080"]
        urls = {u["instance_id"]: u["status"] for u in facts["urls"]}
        assert urls == {OPEN.instance_id: "answers", LOCAL.instance_id: "loopback"}
        assert {(s["address"], s["meaning"]) for s in facts["listeners"]} == {
            (ANY, "all"),
            ("127.0.0.1", "loopback"),
        }

    def test_default_bind(self) -> None:
        """Without an address runserver listens on 127.0.0.1: the text says nothing outside
        reaches it, and suggests 0:PORT."""
        text = _text(["runserver", "8000"], "en")
        assert "(no address) = 127.0.0.1" in text
        assert "write 0:8000" in text
        assert "No rule admits TCP 8000" in text
        assert "--group-id sg-web --protocol tcp --port 8000" in text


class TestOtherTopics:
    """Each topic renders the live values it is about, in both languages."""

    @pytest.mark.parametrize("lang", ["en", "ko"])
    def test_port_and_listening(self, lang: str) -> None:
        """Every instance's sockets with process and meaning, and the cloud's own ports."""
        for topic in ("port", "listening"):
            text = _text([topic], lang)
            assert "127.0.0.1:4800" in text
            assert "169.254.1.1:4801" in text
            assert f"{STOPPED.instance_id}: stopped" in text
            assert "ip netns exec tq-00000001 ss -ltnp" in text
        ports = _text(["port"], lang)
        assert f"{OPEN.instance_id} (10.9.0.5): 22 sshd, 80 nginx, 8080 python3" in ports
        assert f"{LOCAL.instance_id} (10.9.0.6): 22 sshd, 8080 python3" in ports
        listening = _text(["listening"], lang)
        assert "0.0.0.0:8080  python3 (pid 41)" in listening
        assert "127.0.0.1:8080  python3 (pid 51)" in listening
        assert "nginx (pids 42, 43)" in listening

    @pytest.mark.parametrize("lang", ["en", "ko"])
    def test_one_port(self, lang: str) -> None:
        """A port number after the topic shows only that port's sockets."""
        ports = _text(["port", "8080"], lang)
        assert f"{OPEN.instance_id} (10.9.0.5): 8080 python3" in ports
        assert "22 sshd" not in ports
        listening = _text(["listening", "80"], lang)
        assert "0.0.0.0:80  nginx" in listening
        assert "0.0.0.0:22" not in listening
        assert ("nothing listens on port 80" if lang == "en" else "포트 80에서") in listening

    @pytest.mark.parametrize("lang", ["en", "ko"])
    def test_security_group(self, lang: str) -> None:
        """The group guarding instances is detailed rule by rule, with its nft chain."""
        text = _text(["security-group"], lang)
        assert "sgr-web8080" in text
        assert "sgr-out" in text
        assert "in_i_00000000000000001" in text
        assert "tq_fw" in text
        assert "    meta nfproto ipv4 tcp dport 8080 return" in text
        named = render(parse(["sg", "empty"]), FACTS, lang).to_json()
        assert named["facts"]["group"]["group_id"] == "sg-empty"
        missing = render(parse(["sg", "sg-nope"]), FACTS, lang)
        assert missing.data["group"] is None
        assert "sg-nope" in missing.text()

    @pytest.mark.parametrize("lang", ["en", "ko"])
    def test_key_pair(self, lang: str) -> None:
        """Key pairs with fingerprints and instances; chmod 400 and ssh -i for one."""
        text = _text(["key-pair"], lang)
        assert "SHA256fp" in text
        assert OPEN.instance_id in text
        assert "chmod 400 /root/.ssh/k1.pem" in text
        assert "ssh -i /root/.ssh/k1.pem admin@10.9.0.5" in text

    @pytest.mark.parametrize("lang", ["en", "ko"])
    def test_iam(self, lang: str) -> None:
        """Users, their policies and keys; the profile's user and what it may do."""
        text = _text(["iam"], lang)
        assert "AmazonEC2ReadOnlyAccess" in text
        assert "AKIAALICE" in text
        assert "ec2:RunInstances" in text
        assert ("denied (no policy allows it)" if lang == "en" else "허용하는 정책 없음") in text

    @pytest.mark.parametrize("lang", ["en", "ko"])
    def test_instance(self, lang: str) -> None:
        """Instances with states and addresses; one instance's netns, veth and cgroup."""
        text = _text(["instance"], lang)
        assert "i-00000000000000003  stopped" in text
        assert "tq-00000001" in text
        assert "tq00000001h" in text
        assert "pocketcloud/tq/i-00000000000000001" in text
        assert "501" in text

    @pytest.mark.parametrize("lang", ["en", "ko"])
    def test_hosting(self, lang: str) -> None:
        """Apps with URL, nginx, gunicorn's socket and the releases, the current marked."""
        text = _text(["hosting"], lang)
        assert "http://10.9.0.5/" in text
        assert "0.0.0.0:80" in text
        assert "unix:/srv/app/blog/run/20260102-000000-bbbbbbb.sock" in text
        assert "→ 20260102-000000-bbbbbbb" in text

    @pytest.mark.parametrize("topic", [t for t in NAMES if t != "runserver"] + ["runserver 0:80"])
    @pytest.mark.parametrize("lang", ["en", "ko"])
    def test_json(self, topic: str, lang: str) -> None:
        """Every topic's answer is JSON: the explanation's lines and the facts used."""
        data = json.loads(json.dumps(render(parse([topic]), FACTS, lang).to_json()))
        assert data["lang"] == lang
        assert data["explanation"]
        assert data["facts"]["cloud"]["status"] == "up"


class TestCloudState:
    """An empty or stopped cloud is said to be so, with what to run."""

    @pytest.mark.parametrize("topic", [*NAMES[:2], "runserver 0:8080", *NAMES[3:]])
    def test_missing(self, topic: str) -> None:
        """No cloud: the explanation, then init and up; nothing live."""
        facts = TopicFacts(CloudSnapshot("/nowhere", "missing"))
        for lang in ("en", "ko"):
            text = _text([topic], lang, facts)
            assert "`pocketcloud init`" in text
            assert "`pocketcloud up`" in text

    def test_down_and_empty(self) -> None:
        """A stopped cloud says `pocketcloud up`; no instance says how to launch one; no
        app says how to deploy one."""
        facts = TopicFacts(CloudSnapshot("/s", "down", None, "http://127.0.0.1:1", 1, 2, "tq"))
        text = _text(["port"], "en", facts)
        assert "`pocketcloud up`" in text
        assert "run-instances" in text
        assert "pocketcloud deploy" in _text(["hosting"], "ko", facts)
        assert "create-key-pair" in _text(["key-pair"], "en", facts)

    def test_down_with_instances(self) -> None:
        """While the cloud is down its instances do not run, whatever state is stored: no
        socket, no URL, no login line is offered."""
        facts = TopicFacts(
            CloudSnapshot("/s", "down", None, "http://127.0.0.1:1", 1, 2, "tq"),
            (OPEN,),
            (WEB,),
            FACTS.keys,
        )
        for topic in ("port", "listening"):
            assert f"{OPEN.instance_id}: not running, the cloud is down" in _text(
                [topic], "en", facts
            )
        answer = render(parse(["runserver 0:8080"]), facts, "en")
        assert answer.data["urls"] == []
        assert "ssh -i" not in _text(["key-pair"], "en", facts)
