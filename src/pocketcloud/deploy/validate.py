"""Checks of the options a user gives ``pocketcloud deploy``, made before anything is
contacted (pure).

Every such value ends up in a shell line, a file name, an nginx site or a firewall rule on
a server. Each function here takes one option's value and returns its normalized form, or
raises :class:`InvalidOption`: one line naming the option, the value and the rule it broke.
What they accept is narrow on purpose. Nothing but ASCII letters, digits and
``. _ - + : / @ [ ]`` gets through, so no accepted value carries a shell metacharacter, a
space, a newline or a look-alike character, however it is quoted later; and no accepted
value starts with ``-``, so none can be read as a flag.

The rules chosen where there was a choice:

``--domain``
    An RFC 1123 host name, ASCII only (an international name in its ``xn--`` form), any
    case; returned in lower case. One trailing dot (the DNS root) is accepted and dropped:
    ``Example.COM.`` becomes ``example.com``, as Django's ``ALLOWED_HOSTS`` matching does.
    253 characters at most, not counting that dot. A single label (``localhost``) is a host
    name. A name whose last label is all digits must be an IPv4 address (``203.0.113.7``,
    no leading zeros, no trailing dot): no top-level domain is numeric, and ``1.2.3.999``
    or ``0x7f.1`` is a typo or a trick. No IPv6 (nginx ``server_name`` would need brackets).
``--python``
    ``python3`` or ``python3.N`` (a command on the server's PATH); or an absolute path whose
    parts are ``[A-Za-z0-9._+-]+``, none of them ``.`` or ``..``, no ``//``, no trailing
    ``/``, 1024 characters at most; or a version ``3.N`` / ``3.N.M``, returned as given.
``--ssh-from``
    Anything :func:`ipaddress.ip_network` accepts strictly (so ``/255.0.0.0`` netmasks too)
    written with hex digits, ``.``, ``:`` and ``/`` only (no ``%scope``); returned as the
    network's own text (``10.0.0.0/8``, ``2001:db8::/32``, a bare address as ``/32`` or
    ``/128``). ``0.0.0.0/0`` is allowed: opening SSH to everyone is the user's call.
``--target``
    ``pocketcloud`` or ``aws`` exactly, or ``ssh://user@host[:port]``. The user is a login
    name ``[A-Za-z_][A-Za-z0-9_-]{0,31}``: upper case is allowed (logins are case-sensitive
    and some systems have ``Admin``) and kept as given. The host is a ``--domain`` value
    (normalized the same way) or a bracketed IPv6 address (returned compressed). The port is
    1-65535 without leading zeros, kept only if given. No password, path, query or fragment.
``--bucket``
    An S3 bucket name as S3 requires it (3-63 lowercase letters, digits, ``.`` and ``-``,
    starting and ending with a letter or digit, not an IPv4 address, no ``..``); only on a
    cloud target (the role and instance profile are the cloud's).
``--workers`` / ``--keep``
    ``int`` (not ``bool``) in 1..64 / 1..100.
"""

from __future__ import annotations

import contextlib
import ipaddress
import re
from collections.abc import Callable, Iterable
from typing import Any

from pocketcloud.deploy.layout import APP_NAME

HOST_RULE = (
    "a host name is dot-separated labels of letters, digits and '-' (1-63 each, not starting "
    "or ending with '-'), at most 253 characters (RFC 1123)"
)
IPV4_RULE = "an IPv4 address is four numbers 0-255 separated by dots, without leading zeros"
APP_RULE = "an app name is 1-40 lowercase letters, digits and '-', starting with a letter"
PYTHON_RULE = (
    "the interpreter is python3 or python3.N (on the server's PATH), an absolute path of "
    "letters, digits and '._+-' with no '.' or '..' part, or a version such as 3.12 or 3.12.7"
)
CIDR_RULE = (
    "a CIDR is an IPv4 or IPv6 address with an optional /prefix, "
    "e.g. 203.0.113.0/24 or 2001:db8::/32"
)
TARGET_RULE = "a target is pocketcloud, aws or ssh://user@host[:port]"
USER_RULE = (
    "the user in ssh://user@host[:port] is a login name of 1-32 letters, digits, '_' and '-', "
    "not starting with a digit or '-', with no password"
)
TARGET_HOST_RULE = (
    "the host in ssh://user@host[:port] is a host name (RFC 1123), an IPv4 address "
    "or a bracketed IPv6 address such as [2001:db8::1]"
)
PORT_RULE = "the port in ssh://user@host[:port] is a number from 1 to 65535, no leading zeros"
WORKERS_RULE = "gunicorn workers are a whole number from 1 to 64"
KEEP_RULE = "the releases to keep are a whole number from 1 to 100"
BUCKET_RULE = (
    "a bucket name is 3-63 lowercase letters, digits, '.' and '-', starting and ending with "
    "a letter or digit, with no '..' and not an IPv4 address"
)
BUCKET_TARGET_RULE = "a bucket needs a cloud target (pocketcloud or aws)"
_BUCKET = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")

MAX_HOST = 253
MAX_PATH = 1024

_LABEL = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?")
_DIGITS = re.compile(r"[0-9]+")
_PYTHON_COMMAND = re.compile(r"python3(?:\.[0-9]{1,3})?")
_PYTHON_VERSION = re.compile(r"3\.[0-9]{1,3}(?:\.[0-9]{1,3})?")
_PATH_PART = re.compile(r"[A-Za-z0-9._+-]+")
_CIDR_CHARS = re.compile(r"[0-9A-Fa-f.:/]+")
_IPV6_CHARS = re.compile(r"[0-9A-Fa-f.:]+")
_USER = re.compile(r"[A-Za-z_][A-Za-z0-9_-]{0,31}")
_PORT = re.compile(r"[1-9][0-9]{0,4}")


class InvalidOption(ValueError):
    """A deploy option's value that breaks its rule; ``str()`` is one line saying so.

    The value is shown with :func:`ascii` (``repr`` with anything outside ASCII escaped),
    so control characters and look-alike letters are visible: ``'p\\u0430y.example'``.
    """

    def __init__(self, option: str, value: object, rule: str) -> None:
        super().__init__(option, value, rule)
        self.option = option
        self.value = value
        self.rule = rule

    def __str__(self) -> str:
        return f"{self.option} {self.value!a}: {self.rule}"


def domain(value: str) -> str:
    """A name the site answers to: a host name in lower case without a trailing dot, or an
    IPv4 address."""
    text = _text("--domain", value, HOST_RULE)
    name = text.removesuffix(".")
    labels = name.split(".")
    if _DIGITS.fullmatch(labels[-1]):
        return _ipv4("--domain", value, text)
    if len(name) > MAX_HOST or not all(_LABEL.fullmatch(label) for label in labels):
        raise InvalidOption("--domain", value, HOST_RULE)
    return name.lower()


def app_name(value: str) -> str:
    """An app name as :data:`~pocketcloud.deploy.layout.APP_NAME` allows (returned as is)."""
    text = _text("--app", value, APP_RULE)
    if not APP_NAME.fullmatch(text):
        raise InvalidOption("--app", value, APP_RULE)
    return text


def python(value: str) -> str:
    """The server's interpreter for the venv: a ``python3[.N]`` command, an absolute path or
    a version request (returned as is)."""
    text = _text("--python", value, PYTHON_RULE)
    if _PYTHON_COMMAND.fullmatch(text) or _PYTHON_VERSION.fullmatch(text) or _is_path(text):
        return text
    raise InvalidOption("--python", value, PYTHON_RULE)


def ssh_from(value: str) -> str:
    """The network allowed to reach SSH, as CIDR text (a bare address is one host)."""
    text = _text("--ssh-from", value, CIDR_RULE)
    if not _CIDR_CHARS.fullmatch(text):
        raise InvalidOption("--ssh-from", value, CIDR_RULE)
    with contextlib.suppress(ValueError):
        return str(ipaddress.ip_network(text, strict=True))
    try:
        network = ipaddress.ip_network(text, strict=False)
    except ValueError:
        raise InvalidOption("--ssh-from", value, CIDR_RULE) from None
    rule = f"a CIDR has no address bits set after its prefix (the network is {network})"
    raise InvalidOption("--ssh-from", value, rule)


def workers(value: int) -> int:
    """The number of gunicorn workers, 1..64."""
    return _count("--workers", value, 64, WORKERS_RULE)


def keep(value: int) -> int:
    """How many releases to keep on the server, 1..100."""
    return _count("--keep", value, 100, KEEP_RULE)


def target(value: str) -> str:
    """Where to deploy: ``pocketcloud``, ``aws`` or ``ssh://user@host[:port]`` with its host
    normalized."""
    text = _text("--target", value, TARGET_RULE)
    if text in ("pocketcloud", "aws"):
        return text
    if not text.startswith("ssh://") or "@" not in text:
        raise InvalidOption("--target", value, TARGET_RULE)
    user, _, hostport = text.removeprefix("ssh://").partition("@")
    if not _USER.fullmatch(user):
        raise InvalidOption("--target", value, USER_RULE)
    host, port = _host_and_port(value, hostport)
    return f"ssh://{user}@{host}" + ("" if port is None else f":{port}")


def check_options(
    *,
    target: str,
    app: str | None,
    python: str,
    ssh_from: str | None,
    domains: Iterable[str] | None,
    workers: int | None,
    keep: int,
    bucket: str | None = None,
) -> dict[str, Any]:
    """The deploy options normalized, keyed by these parameters' names; the first broken one
    (in this order) raises :class:`InvalidOption`. ``None`` stays ``None`` for ``app``,
    ``ssh_from`` and ``workers``; ``domains`` becomes a tuple without repeats (in order)."""
    given: dict[str, Any] = {
        "target": target,
        "app": app,
        "python": python,
        "ssh_from": ssh_from,
        "domains": domains,
        "workers": workers,
        "keep": keep,
        "bucket": bucket,
    }
    if bucket is not None and given["target"] not in ("pocketcloud", "aws"):
        raise InvalidOption("--bucket", bucket, BUCKET_TARGET_RULE)
    return {
        name: None if value is None and name in _OPTIONAL else _CHECKS[name](value)
        for name, value in given.items()
    }


def bucket_name(value: str) -> str:
    """``--bucket``: an S3 bucket name, as given."""
    if (
        not isinstance(value, str)
        or not _BUCKET.fullmatch(value)
        or ".." in value
        or re.fullmatch(r"[0-9]+(\.[0-9]+){3}", value)
    ):
        raise InvalidOption("--bucket", value, BUCKET_RULE)
    return value


def _domains(values: Iterable[str] | None) -> tuple[str, ...]:
    if values is None:
        return ()
    if isinstance(values, str):  # one --domain given where a list was meant
        values = (values,)
    return tuple(dict.fromkeys(domain(value) for value in values))


_OPTIONAL = frozenset({"app", "ssh_from", "workers", "bucket"})
_CHECKS: dict[str, Callable[[Any], Any]] = {
    "target": target,
    "app": app_name,
    "bucket": bucket_name,
    "python": python,
    "ssh_from": ssh_from,
    "domains": _domains,
    "workers": workers,
    "keep": keep,
}


def _text(option: str, value: object, rule: str) -> str:
    if not isinstance(value, str):
        raise InvalidOption(option, value, rule)
    return value


def _count(option: str, value: object, most: int, rule: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= most:
        raise InvalidOption(option, value, rule)
    return value


def _ipv4(option: str, value: str, text: str) -> str:
    try:
        return str(ipaddress.IPv4Address(text))
    except ValueError:
        raise InvalidOption(option, value, IPV4_RULE) from None


def _is_path(text: str) -> bool:
    first, *parts = text.split("/")
    return (
        first == ""
        and bool(parts)
        and len(text) <= MAX_PATH
        and all(_PATH_PART.fullmatch(part) and part not in (".", "..") for part in parts)
    )


def _host_and_port(value: str, hostport: str) -> tuple[str, int | None]:
    """The normalized host of an ssh target and its port, if one is given."""
    if hostport.startswith("["):
        address, bracket, tail = hostport[1:].partition("]")
        if not bracket or not _IPV6_CHARS.fullmatch(address):
            raise InvalidOption("--target", value, TARGET_HOST_RULE)
        try:
            host = f"[{ipaddress.IPv6Address(address)}]"
        except ValueError:
            raise InvalidOption("--target", value, TARGET_HOST_RULE) from None
    else:
        name, colon, port = hostport.partition(":")
        tail = colon + port
        try:
            host = domain(name)
        except InvalidOption:
            raise InvalidOption("--target", value, TARGET_HOST_RULE) from None
    if not tail:
        return host, None
    if not tail.startswith(":"):
        raise InvalidOption("--target", value, TARGET_HOST_RULE)
    port = tail[1:]
    if not _PORT.fullmatch(port) or int(port) > 65535:
        raise InvalidOption("--target", value, PORT_RULE)
    return host, int(port)
