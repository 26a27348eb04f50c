"""The wire codec of the ``ec2`` and ``query`` protocols, driven by botocore's models.

``Codec.parse`` turns the form/query parameters of one request into the operation
name and a dict keyed by the model's member names, exactly as a boto3 user writes
them; ``Codec.serialize`` turns a handler's result dict into the XML body botocore
expects. Nothing here knows any operation: the per-shape plans in ``_shapes`` are
compiled from the model on first use and cached.
"""

from __future__ import annotations

import base64
import functools
import math
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import botocore.loaders
import botocore.model

from pocketcloud.api._shapes import Emitter, InputPlans, Parser, escape
from pocketcloud.errors import InvalidAction

_SERVICES = frozenset({"ec2", "iam", "sts"})
_ENVELOPE = frozenset({"Action", "Version"})
_XML_DECL = '<?xml version="1.0" encoding="UTF-8"?>\n'


@functools.cache
def _service_model(service: str) -> Any:
    loader = botocore.loaders.create_loader()
    return botocore.model.ServiceModel(loader.load_service_model(service, "service-2"), service)


# -- output: scalar emitters (value, out, open tag, close tag) -----------------------------


def format_timestamp(value: Any) -> str:
    """ISO 8601 UTC with milliseconds (``2026-11-25T10:00:00.000Z``); naive means UTC."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        value = datetime.fromtimestamp(value, UTC)
    if not isinstance(value, datetime):
        return escape(str(value))
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    text: str = value.isoformat(timespec="milliseconds")
    return text + "Z"


def _format_float(value: Any) -> str:
    number = float(value)
    if math.isnan(number):
        return "NaN"
    if number in (float("inf"), float("-inf")):
        return "Infinity" if number > 0 else "-Infinity"
    return repr(number)


def _emit_text(value: Any, out: list[str], open_: str, close: str) -> None:
    out.append(open_ + escape(value if isinstance(value, str) else str(value)) + close)


def _emit_bool(value: Any, out: list[str], open_: str, close: str) -> None:
    out.append(open_ + ("true" if value else "false") + close)


def _emit_int(value: Any, out: list[str], open_: str, close: str) -> None:
    out.append(f"{open_}{int(value)}{close}")


def _emit_float(value: Any, out: list[str], open_: str, close: str) -> None:
    out.append(open_ + _format_float(value) + close)


def _emit_timestamp(value: Any, out: list[str], open_: str, close: str) -> None:
    out.append(open_ + format_timestamp(value) + close)


def _emit_blob(value: Any, out: list[str], open_: str, close: str) -> None:
    data = value.encode() if isinstance(value, str) else value
    out.append(open_ + base64.b64encode(data).decode("ascii") + close)


_SCALAR_EMITTERS: dict[str, Emitter] = {
    "boolean": _emit_bool,
    "integer": _emit_int,
    "long": _emit_int,
    "float": _emit_float,
    "double": _emit_float,
    "timestamp": _emit_timestamp,
    "blob": _emit_blob,
}


def _tags(name: str) -> tuple[str, str]:
    return f"<{name}>", f"</{name}>"


def _member_tag(member: Any, name: str) -> str:
    """The element name botocore's XML parser looks for (``_member_key_name``)."""
    ser = member.serialization
    if member.type_name == "list" and ser.get("flattened"):
        inner = member.member.serialization.get("name")
        if inner is not None:
            return str(inner)
    return str(ser.get("name", name))


class OutputPlans:
    """Compiles (and caches by shape name) the emitter of each output shape."""

    def __init__(self, protocol: str) -> None:
        self._item = "item" if protocol == "ec2" else "member"
        self._memo: dict[str, Emitter] = {}

    def emitter(self, shape: Any) -> Emitter:
        """The emitter for ``shape``, built on first use."""
        name: str = shape.name
        found = self._memo.get(name)
        if found is None:
            found = self._build(shape)
            self._memo[name] = found
        return found

    def _build(self, shape: Any) -> Emitter:
        kind: str = shape.type_name
        if kind == "structure":
            return self._structure(shape)
        if kind == "list":
            return self._list(shape)
        if kind == "map":
            return self._map(shape)
        return _SCALAR_EMITTERS.get(kind, _emit_text)

    def _structure(self, shape: Any) -> Emitter:
        members: dict[str, tuple[str, str, Emitter]] = {}

        def emit(value: Any, out: list[str], open_: str, close: str) -> None:
            # Walks the result's keys, not the model's (often far more) members: botocore
            # reads members by name, so element order is free and follows the result dict.
            out.append(open_)
            for name, item in value.items():
                member = members.get(name)
                if member is not None and item is not None:
                    member[2](item, out, member[0], member[1])
            out.append(close)

        self._memo[shape.name] = emit  # before the members: a recursive shape finds itself
        for name, member in shape.members.items():
            members[name] = (*_tags(_member_tag(member, name)), self.emitter(member))
        return emit

    def _list(self, shape: Any) -> Emitter:
        element = self.emitter(shape.member)
        item_open, item_close = _tags(shape.member.serialization.get("name", self._item))

        def emit_flattened(value: Any, out: list[str], open_: str, close: str) -> None:
            for item in value:
                if item is not None:
                    element(item, out, open_, close)

        def emit(value: Any, out: list[str], open_: str, close: str) -> None:
            out.append(open_)
            emit_flattened(value, out, item_open, item_close)
            out.append(close)

        return emit_flattened if shape.serialization.get("flattened") else emit

    def _map(self, shape: Any) -> Emitter:
        key, value = self.emitter(shape.key), self.emitter(shape.value)
        key_open, key_close = _tags(shape.key.serialization.get("name", "key"))
        value_open, value_close = _tags(shape.value.serialization.get("name", "value"))

        def emit_flattened(pairs: Any, out: list[str], open_: str, close: str) -> None:
            for k, v in pairs.items():
                out.append(open_)
                key(k, out, key_open, key_close)
                if v is not None:
                    value(v, out, value_open, value_close)
                out.append(close)

        def emit(pairs: Any, out: list[str], open_: str, close: str) -> None:
            out.append(open_)
            emit_flattened(pairs, out, "<entry>", "</entry>")
            out.append(close)

        return emit_flattened if shape.serialization.get("flattened") else emit


def _no_output(value: Any, out: list[str], open_: str, close: str) -> None:
    out.append(open_)
    out.append(close)


class Codec:
    """Parses requests and renders responses of one service (``ec2``, ``iam`` or ``sts``)."""

    def __init__(self, service: str) -> None:
        if service not in _SERVICES:
            raise ValueError(f"pocketcloud has no codec for service {service!r}")
        model = _service_model(service)
        self.service = service
        self.protocol: str = model.protocol
        self.api_version: str = model.api_version
        namespace: str = model.metadata.get("xmlNamespace") or (
            f"https://{model.endpoint_prefix}.amazonaws.com/doc/{self.api_version}/"
        )
        self.xml_namespace = namespace if namespace.endswith("/") else namespace + "/"
        self._model = model
        self._ec2 = self.protocol == "ec2"
        self._operations = frozenset[str](model.operation_names)
        self._inputs = InputPlans(self.protocol)
        self._outputs = OutputPlans(self.protocol)
        self._parsers: dict[str, Parser] = {}
        self._writers: dict[str, tuple[Emitter, str | None]] = {}

    def parse(self, params: Mapping[str, str]) -> tuple[str, dict[str, Any]]:
        """Return ``(operation, input)`` for one request's decoded form/query parameters.

        Raises only ``pocketcloud.errors`` exceptions: InvalidAction, MissingParameter,
        InvalidParameterValue, and ``UnknownParameter`` (ec2) or ``ValidationError``
        (query) ClientErrors.
        """
        operation = params.get("Action") or ""
        parser = self._parsers.get(operation) or self._parser(operation)
        body = {key: value for key, value in params.items() if key not in _ENVELOPE}
        parsed: dict[str, Any] = parser(body, "")
        return operation, parsed

    def serialize(self, operation: str, result: Mapping[str, Any], request_id: str) -> bytes:
        """Render the HTTP 200 body of ``operation`` from its output dict ``result``.

        Keys the output shape does not know, and members whose value is None, are left out.
        """
        emit, wrapper = self._writers.get(operation) or self._writer(operation)
        request_id = escape(request_id)
        namespace = self.xml_namespace
        if self._ec2:
            open_ = f'{_XML_DECL}<{operation}Response xmlns="{namespace}">'
            open_ += f"<requestId>{request_id}</requestId>"
            close = f"</{operation}Response>"
        else:
            open_ = f'<{operation}Response xmlns="{namespace}">'
            close = "<ResponseMetadata><RequestId>"
            close += f"{request_id}</RequestId></ResponseMetadata></{operation}Response>"
            if wrapper is not None:
                open_, close = f"{open_}<{wrapper}>", f"</{wrapper}>{close}"
        out: list[str] = []
        emit(result, out, open_, close)
        return "".join(out).encode()

    def serialize_error(self, code: str, message: str, request_id: str, *, sender: bool) -> bytes:
        """Render an error body; ``sender`` picks the query protocol's Sender/Receiver type."""
        error = f"<Code>{escape(code)}</Code><Message>{escape(message)}</Message>"
        request_id = escape(request_id)
        if self._ec2:
            body = f"{_XML_DECL}<Response><Errors><Error>{error}</Error></Errors>"
            body += f"<RequestID>{request_id}</RequestID></Response>"
        else:
            kind = "Sender" if sender else "Receiver"
            body = f'<ErrorResponse xmlns="{self.xml_namespace}"><Error><Type>{kind}</Type>'
            body += f"{error}</Error><RequestId>{request_id}</RequestId></ErrorResponse>"
        return body.encode()

    def _operation(self, operation: str) -> Any:
        if operation not in self._operations:
            shown = operation[:256] or "(none)"
            raise InvalidAction(f"The action {shown} is not valid for this web service.")
        return self._model.operation_model(operation)

    def _parser(self, operation: str) -> Parser:
        parser = self._inputs.parser(self._operation(operation).input_shape)
        self._parsers[operation] = parser
        return parser

    def _writer(self, operation: str) -> tuple[Emitter, str | None]:
        shape = self._operation(operation).output_shape
        if shape is None:
            writer: tuple[Emitter, str | None] = (_no_output, None)
        else:
            writer = (self._outputs.emitter(shape), shape.serialization.get("resultWrapper"))
        self._writers[operation] = writer
        return writer


@functools.cache
def codec_for(service: str) -> Codec:
    """The shared, cached Codec of ``service`` (``ec2``, ``iam`` or ``sts``)."""
    return Codec(service)
