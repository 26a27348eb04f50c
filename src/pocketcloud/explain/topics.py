"""``pocketcloud explain <topic>``: the seed's questions answered with the user's own cloud.

Pure: :func:`parse` reads the words the user typed into a :class:`Question`, :func:`needs`
says which live facts it takes (:mod:`.live` gathers them), and :func:`render` turns the
facts into an :class:`Answer` in Korean or English — lines to print and the same as data.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from pocketcloud.explain import topics_more, topics_net
from pocketcloud.explain.topics_common import Out
from pocketcloud.explain.topics_facts import Facts, Needs
from pocketcloud.explain.topics_runserver import Bind, parse_runserver, render_runserver

#: each topic and the titles it is shown under
TOPICS = (
    "port",
    "listening",
    "runserver",
    "security-group",
    "key-pair",
    "iam",
    "instance",
    "hosting",
)
ALIASES = {
    "ports": "port",
    "포트": "port",
    "listen": "listening",
    "리스닝": "listening",
    "sg": "security-group",
    "security-groups": "security-group",
    "securitygroup": "security-group",
    "보안그룹": "security-group",
    "keypair": "key-pair",
    "key-pairs": "key-pair",
    "key": "key-pair",
    "키페어": "key-pair",
    "instances": "instance",
    "ec2": "instance",
    "인스턴스": "instance",
    "deploy": "hosting",
    "호스팅": "hosting",
}
#: words before ``runserver`` that change nothing (``python3 ./manage.py runserver 0:8080``)
_LAUNCHERS = frozenset({"python", "python3", "./manage.py", "manage.py", "django-admin"})
_NEEDS = {
    "port": Needs(sockets=True),
    "listening": Needs(sockets=True),
    "runserver": Needs(sockets=True),
    "security-group": Needs(chains=True),
    "key-pair": Needs(),
    "iam": Needs(iam=True),
    "instance": Needs(sockets=True),
    "hosting": Needs(sockets=True, apps=True),
}


class UnknownTopic(ValueError):
    """Words that name no topic."""


@dataclass(frozen=True)
class Question:
    """What the user asked: a topic, and what it is about (a group, an instance, ...)."""

    topic: str
    subject: str | None = None
    bind: Bind | None = None  # runserver only


@dataclass(frozen=True)
class Answer:
    """An explanation: the lines to print and the facts it used, as data."""

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
    name = ALIASES.get(parts[0].lower(), parts[0].lower())
    if name not in TOPICS:
        raise UnknownTopic(parts[0])
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
    return _NEEDS[question.topic]


def _port(subject: str | None) -> int | None:
    return int(subject) if subject is not None and subject.isdigit() else None


_RENDER: dict[str, Callable[[Out, Facts, Question], None]] = {
    "port": lambda o, f, q: topics_net.render_port(o, f, _port(q.subject)),
    "listening": lambda o, f, q: topics_net.render_listening(o, f, _port(q.subject)),
    "runserver": lambda o, f, q: render_runserver(o, f, q.bind or parse_runserver(None)),
    "security-group": lambda o, f, q: topics_net.render_security_group(o, f, q.subject),
    "key-pair": lambda o, f, q: topics_more.render_key_pair(o, f, q.subject),
    "iam": lambda o, f, q: topics_more.render_iam(o, f, q.subject),
    "instance": lambda o, f, q: topics_more.render_instance(o, f, q.subject),
    "hosting": lambda o, f, q: topics_more.render_hosting(o, f, q.subject),
}
_TITLES = {
    "port": "port.title",
    "listening": "listening.title",
    "runserver": "runserver.title",
    "security-group": "sg.title",
    "key-pair": "key.title",
    "iam": "iam.title",
    "instance": "inst.title",
    "hosting": "host.title",
}


def _width(text: str) -> int:
    """Columns the text takes in a terminal (Hangul is two wide)."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def _status(out: Out, facts: Facts) -> None:
    cloud = facts.cloud
    out.say(f"cloud.{cloud.status}", root=cloud.root, endpoint=cloud.endpoint, pid=cloud.pid)
    out.data["cloud"] = asdict(cloud)
    out.blank()


def render(question: Question, facts: Facts, lang: str) -> Answer:
    """The explanation of ``question`` with ``facts``, in ``lang`` ("ko" or "en")."""
    out = Out(lang)
    written = question.bind.written if question.bind else ""
    title = out.text(_TITLES[question.topic], written=written)
    out.lines += [title, "=" * _width(title)]
    _status(out, facts)
    _RENDER[question.topic](out, facts, question)
    return Answer(question, lang, tuple(out.lines), out.data)


def unknown(lang: str, topic: str) -> str:
    """The message for words that name no topic, listing the known ones."""
    out = Out(lang)
    known = ", ".join(t if t != "runserver" else "'runserver 0:8080'" for t in TOPICS)
    return out.text("unknown", topic=topic, known=known)
