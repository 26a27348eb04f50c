"""``pocketcloud explain <topic>``: the registry of topics, and a question answered.

Pure: :func:`parse` reads the words the user typed into a :class:`Question` about one
:class:`Topic` of :data:`TOPICS`; the topic's ``needs`` say which live facts it takes
(:mod:`.gather` reads them), and :func:`render` turns the facts into an
:class:`Explanation` in Korean or English — lines to print and the same as data. A new
topic is one more :class:`Topic` record (and its texts in both languages).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from pocketcloud.explain.topics import access, credentials, machines, net
from pocketcloud.explain.topics.common import Out
from pocketcloud.explain.topics.facts import Needs, TopicFacts
from pocketcloud.explain.topics.runserver import Bind, parse_runserver, render_runserver

#: words before ``runserver`` that change nothing (``python3 ./manage.py runserver 0:8080``)
_LAUNCHERS = frozenset({"python", "python3", "./manage.py", "manage.py", "django-admin"})


class UnknownTopic(ValueError):
    """Words that name no topic."""


@dataclass(frozen=True)
class Question:
    """What the user asked: a topic, and what it is about (a group, an instance, ...)."""

    topic: str
    subject: str | None = None
    bind: Bind | None = None  # runserver only


@dataclass(frozen=True)
class Explanation:
    """A topic explained: the lines to print and the facts it used, as data."""

    question: Question
    lang: str
    lines: tuple[str, ...]
    data: dict[str, Any]

    def text(self) -> str:
        """The explanation as printed."""
        return "\n".join(self.lines).rstrip() + "\n"

    def to_json(self) -> dict[str, Any]:
        """The explanation and its facts, for ``--json``."""
        q = self.question
        question = {"topic": q.topic, "subject": q.subject}
        if q.bind is not None:
            question["runserver"] = q.bind.written
        return {
            "topic": q.topic,
            "lang": self.lang,
            "question": question,
            "explanation": list(self.lines),
            "facts": self.data,
        }


#: how a topic writes its explanation of a question with the facts
Render = Callable[[Out, TopicFacts, Question], None]


@dataclass(frozen=True)
class Topic:
    """One topic of ``explain <topic>``: its name and the other words that name it, the
    live facts it takes, its title (a key of the texts) and how it is rendered."""

    name: str
    aliases: tuple[str, ...]
    needs: Needs
    title: str
    render: Render


def _port(subject: str | None) -> int | None:
    return int(subject) if subject is not None and subject.isdigit() else None


#: every topic, in the order they are listed
TOPICS: tuple[Topic, ...] = (
    Topic(
        "port",
        ("ports", "포트"),
        Needs(sockets=True),
        "port.title",
        lambda o, f, q: net.render_port(o, f, _port(q.subject)),
    ),
    Topic(
        "listening",
        ("listen", "리스닝"),
        Needs(sockets=True),
        "listening.title",
        lambda o, f, q: net.render_listening(o, f, _port(q.subject)),
    ),
    Topic(
        "runserver",
        (),
        Needs(sockets=True),
        "runserver.title",
        lambda o, f, q: render_runserver(o, f, q.bind or parse_runserver(None)),
    ),
    Topic(
        "security-group",
        ("sg", "security-groups", "securitygroup", "보안그룹"),
        Needs(chains=True),
        "sg.title",
        lambda o, f, q: net.render_security_group(o, f, q.subject),
    ),
    Topic(
        "key-pair",
        ("keypair", "key-pairs", "key", "키페어"),
        Needs(),
        "key.title",
        lambda o, f, q: access.render_key_pair(o, f, q.subject),
    ),
    Topic(
        "iam",
        (),
        Needs(iam=True),
        "iam.title",
        lambda o, f, q: access.render_iam(o, f, q.subject),
    ),
    Topic(
        "aws-keys",
        (
            "aws-key",
            "access-keys",
            "access-key",
            "role",
            "roles",
            "credentials",
            "액세스키",
            "역할",
        ),
        Needs(iam=True, roles=True),
        "keys.title",
        lambda o, f, q: credentials.render_aws_keys(o, f),
    ),
    Topic(
        "instance",
        ("instances", "ec2", "인스턴스"),
        Needs(sockets=True),
        "inst.title",
        lambda o, f, q: machines.render_instance(o, f, q.subject),
    ),
    Topic(
        "hosting",
        ("deploy", "호스팅"),
        Needs(sockets=True, apps=True),
        "host.title",
        lambda o, f, q: machines.render_hosting(o, f, q.subject),
    ),
)
#: each word that names a topic (its name or an alias) → the topic
BY_WORD = {word: topic for topic in TOPICS for word in (topic.name, *topic.aliases)}


def find(name: str) -> Topic:
    """The topic named ``name`` or one of its aliases (UnknownTopic if none)."""
    try:
        return BY_WORD[name.lower()]
    except KeyError:
        raise UnknownTopic(name) from None


def _words(words: Sequence[str]) -> list[str]:
    """The words, quoted phrases split ('runserver 0:8080' is two words)."""
    return [part for word in words for part in word.split()]


def parse(words: Sequence[str]) -> Question:
    """The question the words ask (UnknownTopic if they name no topic; ValueError for a
    runserver argument Django would refuse)."""
    parts = _words(words)
    while parts and parts[0] in _LAUNCHERS:
        parts = parts[1:]
    if not parts:
        raise UnknownTopic("")
    name = find(parts[0]).name
    rest = [p for p in parts[1:] if not p.startswith("-")]  # runserver's own options
    if name == "runserver":
        if len(rest) > 1:
            raise ValueError(f"runserver takes one [address:]port, not {' '.join(rest)!r}")
        return Question(name, None, parse_runserver(rest[0] if rest else None))
    if len(rest) > 1:
        raise UnknownTopic(" ".join(parts))
    return Question(name, rest[0] if rest else None)


def needs(question: Question) -> Needs:
    """The live facts a question takes."""
    return find(question.topic).needs


def _width(text: str) -> int:
    """Columns the text takes in a terminal (Hangul is two wide)."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def _status(out: Out, facts: TopicFacts) -> None:
    cloud = facts.cloud
    out.say(f"cloud.{cloud.status}", root=cloud.root, endpoint=cloud.endpoint, pid=cloud.pid)
    out.data["cloud"] = asdict(cloud)
    out.blank()


def render(question: Question, facts: TopicFacts, lang: str) -> Explanation:
    """The explanation of ``question`` with ``facts``, in ``lang`` ("ko" or "en")."""
    topic = find(question.topic)
    out = Out(lang)
    written = question.bind.written if question.bind else ""
    title = out.text(topic.title, written=written)
    out.lines += [title, "=" * _width(title)]
    _status(out, facts)
    topic.render(out, facts, question)
    return Explanation(question, lang, tuple(out.lines), out.data)


def unknown(lang: str, topic: str) -> str:
    """The message for words that name no topic, listing the known ones."""
    out = Out(lang)
    names = (t.name for t in TOPICS)
    known = ", ".join(n if n != "runserver" else "'runserver 0:8080'" for n in names)
    return out.text("unknown", topic=topic, known=known)
