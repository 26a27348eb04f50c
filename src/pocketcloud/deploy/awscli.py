"""AWS calls as data: what boto3 is given, and the AWS CLI line that sends the same request.

An ``AwsCall`` holds the boto3 method name and exactly the parameters passed to it; ``cli()``
renders the line from botocore's service model, so the echoed line cannot drift from the
call. How a parameter becomes words follows the AWS CLI (v1, ``awscli/argprocess.py``):

- a string or number: ``--key-name shop`` (one word, whatever it holds);
- a list of strings or numbers: ``--instance-ids i-1 i-2``;
- a boolean: ``--dry-run`` or ``--no-dry-run`` (the CLI's renames, ``argrename.py``, apply);
- a structure, map or list of structures: one compact JSON word, which the CLI accepts for
  any complex parameter;
- run-instances: ``--count N`` or ``--count MIN:MAX`` instead of MinCount and MaxCount (the
  CLI's ``customizations/ec2/addcount.py``);
- a value the CLI would not take literally as a word (one starting with ``-`` reads as an
  option, ``file://``/``fileb://``/``http(s)://`` are fetched, an empty list has no word, a
  lone ``[…`` word reads as JSON) goes into ``--cli-input-json``, which the CLI reads as is.

Every word is shell-quoted. Pure: the service model is botocore's data, read from disk once.
"""

from __future__ import annotations

import datetime as dt
import json
import shlex
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import botocore.session
from botocore import xform_name

COUNT_OPERATIONS = {("ec2", "RunInstances")}  # addcount.py: --count for MinCount/MaxCount
COUNT_PARAMS = ("MinCount", "MaxCount")
# argrename.py: the CLI's names for some negative boolean flags
RENAMED = {
    "ec2.create-image.no-no-reboot": "reboot",
    "ec2.*.no-egress": "ingress",
    "ec2.*.no-disable-api-termination": "enable-api-termination",
}
#: the CLI's command for a service whose own name is taken (``aws s3`` is the high-level one)
CLI_SERVICES = {"s3": "s3api"}
FETCHED_PREFIXES = ("file://", "fileb://", "http://", "https://")  # paramfile.py
SCALARS = {"string", "integer", "long", "float", "double", "timestamp"}
COMPLEX = {"structure", "map", "list"}


@dataclass(frozen=True)
class AwsCall:
    """One AWS API call: ``operation`` is the boto3 method (``create_key_pair``), or with
    ``waiter`` the boto3 waiter's name (``instance_running``); ``params`` exactly what boto3
    is given. ``query``, ``output`` and ``redirect`` only shape the CLI line's output."""

    operation: str
    params: dict[str, Any] = field(hash=False)
    service: str = "ec2"
    waiter: bool = False
    query: str | None = None
    output: str | None = None
    redirect: str | None = None

    def words(self, profile: str, region: str | None = None) -> list[str]:
        """The CLI's argv (without any redirection): global options, command, parameters."""
        command, api_name, shape = _command(self.service, self.operation, self.waiter)
        counted = not self.waiter and (self.service, api_name) in COUNT_OPERATIONS
        head = ["aws", "--profile", profile, *(["--region", region] if region else [])]
        args, as_json = _arguments(self.service, command, shape, self.params, counted)
        if as_json:
            args += ["--cli-input-json", _json(as_json)]
        shaping = [*(["--query", self.query] if self.query else []),
                   *(["--output", self.output] if self.output else [])]  # fmt: skip
        return [*head, CLI_SERVICES.get(self.service, self.service), *command, *args, *shaping]

    def cli(self, profile: str, region: str | None = None) -> str:
        """The AWS CLI line, every word quoted for a POSIX shell."""
        line = shlex.join(self.words(profile, region))
        return f"{line} > {shlex.quote(self.redirect)}" if self.redirect else line


def waiter(name: str, **params: Any) -> AwsCall:
    """A boto3 waiter (``instance_running``) as a call: ``aws ec2 wait instance-running …``."""
    return AwsCall(name, params, waiter=True)


@cache
def _session() -> Any:
    return botocore.session.get_session()


@cache
def _model(service: str) -> Any:
    return _session().get_service_model(service)


@cache
def _operations(service: str) -> dict[str, str]:
    """boto3 method name → the API's operation name."""
    return {xform_name(name): name for name in _model(service).operation_names}


@cache
def _waiters(service: str) -> dict[str, str]:
    """boto3 waiter name → the waiter's name in botocore's waiter model."""
    return {xform_name(name): name for name in _session().get_waiter_model(service).waiter_names}


def _command(service: str, operation: str, is_waiter: bool) -> tuple[list[str], str, Any]:
    """The CLI's command words after the service, the API operation and its input shape."""
    names = _waiters(service) if is_waiter else _operations(service)
    if operation not in names:
        raise ValueError(f"{service} has no {'waiter' if is_waiter else 'operation'} {operation}")
    name = names[operation]
    if is_waiter:
        api_name = _session().get_waiter_model(service).get_waiter(name).operation
        command = ["wait", xform_name(name, "-")]
    else:
        api_name, command = name, [xform_name(name, "-")]
    shape = _model(service).operation_model(api_name).input_shape
    return command, api_name, shape


def _arguments(
    service: str, command: list[str], shape: Any, params: dict[str, Any], counted: bool
) -> tuple[list[str], dict[str, Any]]:
    """The parameters' words, and those that must go in --cli-input-json instead."""
    members = shape.members if shape is not None else {}
    words: list[str] = []
    as_json: dict[str, Any] = {}
    for name, value in params.items():
        if name not in members:
            raise ValueError(f"{' '.join(command)} has no parameter {name}")
        if counted and name in COUNT_PARAMS:
            if name == next(n for n in params if n in COUNT_PARAMS):  # once, at the first
                words += ["--count", _count(params)]
            continue
        flag = xform_name(name, "-")
        member = members[name]
        if member.type_name == "boolean":
            words.append(_boolean(service, command, flag, bool(value)))
        elif member.type_name in COMPLEX and not _scalar_list(member):
            words += [f"--{flag}", _json(value)]
        elif _literal(member, value):
            words += [f"--{flag}", *_scalar_words(value)]
        else:
            as_json[name] = value
    return words, as_json


def _count(params: dict[str, Any]) -> str:
    low, high = (params.get(name) for name in COUNT_PARAMS)
    if not (isinstance(low, int) and isinstance(high, int) and 0 <= low <= high):
        raise ValueError(f"--count needs MinCount <= MaxCount, both given: {low}, {high}")
    return str(low) if low == high else f"{low}:{high}"


def _boolean(service: str, command: list[str], flag: str, value: bool) -> str:
    if value:
        return f"--{flag}"
    negative = f"no-{flag}"
    found = RENAMED.get(
        f"{service}.{command[-1]}.{negative}", RENAMED.get(f"{service}.*.{negative}")
    )
    return f"--{found or negative}"


def _scalar_list(member: Any) -> bool:
    return bool(member.type_name == "list" and member.member.type_name in SCALARS)


def _scalar_words(value: Any) -> list[str]:
    return [_scalar(v) for v in value] if isinstance(value, list | tuple) else [_scalar(value)]


def _scalar(value: Any) -> str:
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, str | int | float) and not isinstance(value, bool):
        return str(value)
    raise ValueError(f"not a CLI scalar: {value!r}")


def _literal(member: Any, value: Any) -> bool:
    """Whether the CLI takes ``value`` as given when written as words."""
    if member.type_name not in SCALARS and not _scalar_list(member):
        raise ValueError(f"parameter of type {member.type_name} cannot be rendered")
    words = _scalar_words(value)
    if _scalar_list(member) and (not words or words[0].strip().startswith("[")):
        return False  # no word at all, or a first word the CLI would read as a JSON list
    return not any(w.startswith(("-", *FETCHED_PREFIXES)) for w in words)


def _json(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False, default=_scalar)
