"""The server side of botocore's ``rest-xml`` protocol (S3), driven by its service model.

``RestXml.operation`` names the operation a request is, from its method, path shape,
subresource keys and required query/header members; ``RestXml.parse`` turns the URI
labels, query, headers and XML body into a dict keyed by the model's member names, as a
boto3 user writes them; ``RestXml.serialize`` renders a handler's result dict as status,
headers and XML body. Paths are S3 path-style (``/``, ``/{Bucket}``, ``/{Bucket}/{Key+}``).
Nothing here knows one operation, except the root element names of response bodies
(``_ROOTS``) and two 204 answers (``_NO_CONTENT``), which the model does not carry.
Error bodies are rendered elsewhere.
"""

from __future__ import annotations

import base64
import email.utils
import functools
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, NoReturn
from urllib.parse import unquote
from xml.parsers import expat

import botocore.loaders
import botocore.model

from pocketcloud.api._shapes import Emitter, escape
from pocketcloud.api.codec import OutputPlans, format_timestamp
from pocketcloud.api.form import form_pairs
from pocketcloud.errors import ClientError

NAMESPACE = "http://s3.amazonaws.com/doc/2006-03-01/"
_XML_DECL = '<?xml version="1.0" encoding="UTF-8"?>\n'
_MAX_QUERY_FIELDS = 1000
_INT_RE = re.compile(r"\s*[+-]?[0-9]{1,20}\s*")
_EPOCH_RE = re.compile(r"[+-]?[0-9]{1,12}(?:\.[0-9]{1,9})?")
_QUOTED_RE = re.compile(r'"((?:[^"\\]|\\.)*)"\s*(?:,|$)')
_MALFORMED = (
    "The XML you provided was not well-formed or did not validate against our published schema"
)

# AWS's root element of each response body without a payload member (the model has none);
# any other operation's root is "<Operation>Result".
_ROOTS: dict[str, str] = {
    "ListBuckets": "ListAllMyBucketsResult",
    "ListDirectoryBuckets": "ListAllMyDirectoryBucketsResult",
    "ListObjects": "ListBucketResult",
    "ListObjectsV2": "ListBucketResult",
    "ListObjectVersions": "ListVersionsResult",
    "GetBucketLocation": "LocationConstraint",
    "CreateMultipartUpload": "InitiateMultipartUploadResult",
    "CompleteMultipartUpload": "CompleteMultipartUploadResult",
    "ListParts": "ListPartsResult",
    "ListMultipartUploads": "ListMultipartUploadsResult",
    "DeleteObjects": "DeleteResult",
    "GetBucketVersioning": "VersioningConfiguration",
    "GetBucketTagging": "Tagging",
    "GetObjectTagging": "Tagging",
    "GetBucketCors": "CORSConfiguration",
    "GetObjectAttributes": "GetObjectAttributesResponse",
    "GetBucketAcl": "AccessControlPolicy",
    "GetObjectAcl": "AccessControlPolicy",
    "GetBucketLifecycle": "LifecycleConfiguration",
    "GetBucketLifecycleConfiguration": "LifecycleConfiguration",
    "GetBucketAccelerateConfiguration": "AccelerateConfiguration",
    "GetBucketLogging": "BucketLoggingStatus",
    "GetBucketNotification": "NotificationConfiguration",
    "GetBucketNotificationConfiguration": "NotificationConfiguration",
    "GetBucketRequestPayment": "RequestPaymentConfiguration",
    "GetBucketWebsite": "WebsiteConfiguration",
    "ListBucketAnalyticsConfigurations": "ListBucketAnalyticsConfigurationResult",
    "ListBucketInventoryConfigurations": "ListInventoryConfigurationsResult",
    "ListBucketMetricsConfigurations": "ListMetricsConfigurationsResult",
}
# S3 answers these 204 No Content though the model gives no responseCode (the API
# reference's samples; moto agrees for tagging). Deletes carry 204 in the model itself.
_NO_CONTENT = frozenset({"PutBucketTagging", "PutBucketPolicy"})

Query = dict[str, list[str]]


@functools.cache
def _service_model(service: str) -> Any:
    loader = botocore.loaders.create_loader()
    return botocore.model.ServiceModel(loader.load_service_model(service, "service-2"), service)


@dataclass(frozen=True)
class HttpCall:
    """What the server saw of one request; header names lower-case."""

    method: str
    path: str  # raw, still percent-encoded, path-style: "/", "/{bucket}" or "/{bucket}/{key}"
    query: str  # raw query string, without "?"
    headers: Mapping[str, str]


def _malformed(detail: str = "") -> ClientError:
    return ClientError("MalformedXML", _MALFORMED + (f": {detail}" if detail else ""))


def _bad_uri() -> ClientError:
    return ClientError("InvalidURI", "Couldn't parse the specified URI.")


def _split_path(path: str) -> list[str]:
    """``/`` -> [], ``/b`` and ``/b/`` -> [b], ``/b/k/x`` -> [b, "k/x"]; still encoded."""
    if not path.startswith("/"):
        raise _bad_uri()
    bucket, _, key = path[1:].partition("/")
    if key:
        return [bucket, key]
    return [bucket] if bucket else []


def _query(raw: str) -> Query:
    try:
        pairs = form_pairs(raw, _MAX_QUERY_FIELDS)
    except ValueError as exc:  # too many fields, or an escape that is not UTF-8
        raise _bad_uri() from exc
    out: Query = {}
    for key, value in pairs:
        out.setdefault(key, []).append(value)
    return out


def _pattern(request_uri: str) -> tuple[list[str], list[tuple[str, str | None]]]:
    """The path segments and the literal query keys (with a value or not) of a requestUri."""
    path, _, query = request_uri.partition("?")
    subresources: list[tuple[str, str | None]] = []
    for item in filter(None, query.split("&")):
        key, eq, value = item.partition("=")
        subresources.append((key, value if eq else None))
    return [part for part in path.split("/") if part], subresources


def _wire(member: Any, name: str) -> str:
    return str(member.serialization.get("name", name))


# -- routing -------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Route:
    """What a request must show to be one operation, beyond its method and path depth."""

    operation: str
    literals: tuple[tuple[int, str], ...]  # path segments that are fixed text
    subresources: tuple[tuple[str, str | None], ...]  # query keys from the requestUri
    query: tuple[str, ...]  # required querystring members
    headers: tuple[str, ...]  # required header members, lower-case

    def score(self) -> int:
        """How much the request must show: more is more specific."""
        parts = (self.literals, self.subresources, self.query, self.headers)
        return sum(map(len, parts))

    def accepts(self, segments: list[str], query: Query, headers: Mapping[str, str]) -> bool:
        """Whether a request with these path segments, query and headers fits."""
        return (
            all(segments[index] == text for index, text in self.literals)
            and all(
                key in query and (value is None or value in query[key])
                for key, value in self.subresources
            )
            and all(key in query for key in self.query)
            and all(key in headers for key in self.headers)
        )


def _route(op: Any) -> tuple[tuple[str, int], tuple[int, bool, bool, str], _Route]:
    """The candidate-list key, the rank and the route of one operation model."""
    segments, subresources = _pattern(op.http["requestUri"])
    shape = op.input_shape
    required = [] if shape is None else [(n, shape.members[n]) for n in shape.required_members]

    def wires(location: str) -> tuple[str, ...]:
        found = [_wire(m, n) for n, m in required if m.serialization.get("location") == location]
        return tuple(found)

    literals = tuple((i, part) for i, part in enumerate(segments) if not part.startswith("{"))
    headers = tuple(name.lower() for name in wires("header"))
    route = _Route(op.name, literals, tuple(subresources), wires("querystring"), headers)
    # Ties (same requirements) go to the current operation over a deprecated one, then to a
    # general-purpose one over an S3 Express control-endpoint one (ListDirectoryBuckets).
    express = any(p.name == "UseS3ExpressControlEndpoint" for p in op.static_context_parameters)
    rank = (-route.score(), bool(op.deprecated), express, op.name)
    return (op.http["method"], len(segments)), rank, route


@functools.cache
def _routes(service: str) -> dict[tuple[str, int], tuple[_Route, ...]]:
    """Per (method, path depth), the candidate routes, most specific first."""
    model = _service_model(service)
    ranked: dict[tuple[str, int], list[tuple[tuple[int, bool, bool, str], _Route]]] = {}
    for name in model.operation_names:
        key, rank, route = _route(model.operation_model(name))
        ranked.setdefault(key, []).append((rank, route))
    return {key: tuple(route for _, route in sorted(found)) for key, found in ranked.items()}


# -- text values: headers, query, XML -----------------------------------------------------


def _parse_timestamp(raw: str) -> datetime:
    """An aware UTC datetime from RFC 7231/822, ISO 8601 or epoch-seconds text."""
    text = raw.strip()
    try:
        if _EPOCH_RE.fullmatch(text):
            return datetime.fromtimestamp(float(text), UTC)
        if "," in text or text.endswith("GMT"):
            stamp = email.utils.parsedate_to_datetime(text)
        else:
            stamp = datetime.fromisoformat(text)
    except (TypeError, OverflowError, OSError) as exc:
        raise ValueError(raw) from exc
    return stamp.replace(tzinfo=UTC) if stamp.tzinfo is None else stamp.astimezone(UTC)


def _to_int(raw: str) -> int:
    if not _INT_RE.fullmatch(raw):
        raise ValueError(raw)
    return int(raw)


def _to_bool(raw: str) -> bool:
    lowered = raw.strip().lower()
    if lowered not in ("true", "false"):
        raise ValueError(raw)
    return lowered == "true"


def _to_blob(raw: str) -> bytes:
    return base64.b64decode(raw, validate=True)


_CONVERTERS: dict[str, Callable[[str], Any]] = {
    "integer": _to_int,
    "long": _to_int,
    "boolean": _to_bool,
    "float": float,
    "double": float,
    "timestamp": _parse_timestamp,
    "blob": _to_blob,
}


def _convert(shape: Any, raw: str) -> Any:
    """The typed value of one scalar's text; ValueError when it is not one."""
    if shape.type_name == "string" and shape.serialization.get("jsonvalue"):
        return json.loads(base64.b64decode(raw))
    return _CONVERTERS.get(shape.type_name, str)(raw)


def _argument(shape: Any, raw: str, where: str) -> Any:
    """A header's or query key's typed value; S3's InvalidArgument when it is not one."""
    try:
        return _convert(shape, raw)
    except ValueError as exc:
        raise ClientError("InvalidArgument", f"Invalid value for {where}") from exc


def _split_list(raw: str) -> list[str]:
    """A list header: items joined by commas, an item holding ``,`` or ``"`` quoted."""
    items: list[str] = []
    rest = raw.strip()
    while rest:
        quoted = _QUOTED_RE.match(rest) if rest.startswith('"') else None
        if quoted is not None:
            items.append(re.sub(r"\\(.)", r"\1", quoted[1]))
            rest = rest[quoted.end() :].lstrip()
        else:
            item, _, rest = rest.partition(",")
            items.append(item.strip())
            rest = rest.lstrip()
    return items


def _quote_item(text: str) -> str:
    return '"' + text.replace('"', '\\"') + '"' if '"' in text or "," in text else text


def _aware(value: Any) -> datetime:
    if isinstance(value, str):
        return _parse_timestamp(value)
    if isinstance(value, int | float):
        return datetime.fromtimestamp(value, UTC)
    stamp: datetime = value
    return stamp.replace(tzinfo=UTC) if stamp.tzinfo is None else stamp.astimezone(UTC)


def _format_time(value: Any, style: str) -> str:
    """A timestamp in a model's ``timestampFormat``: rfc822 (RFC 7231), iso8601, unixTimestamp."""
    stamp = _aware(value)
    if style == "iso8601":
        return format_timestamp(stamp)
    if style == "unixTimestamp":
        seconds = stamp.timestamp()
        return str(int(seconds)) if seconds.is_integer() else repr(seconds)
    return email.utils.format_datetime(stamp, usegmt=True)


def _header_text(shape: Any, value: Any) -> str:
    kind: str = shape.type_name
    if kind == "timestamp":
        return _format_time(value, shape.serialization.get("timestampFormat", "rfc822"))
    if kind == "boolean":
        return "true" if value else "false"
    if kind == "list":
        return ",".join(_quote_item(_header_text(shape.member, v)) for v in value if v is not None)
    if kind in ("float", "double"):
        return repr(float(value))
    if shape.serialization.get("jsonvalue"):
        return base64.b64encode(json.dumps(value, separators=(",", ":")).encode()).decode()
    return str(value)


# -- XML in: a small expat tree, read per shape -------------------------------------------


@dataclass(slots=True)
class _Element:
    name: str  # local name: the namespace is ignored
    attrs: dict[str, str]
    children: list[_Element] = field(default_factory=list)
    text: list[str] = field(default_factory=list)


def _local(name: str) -> str:
    return name.rpartition(" ")[2]


def _refuse(*_: object) -> NoReturn:
    raise _malformed("DTDs and entity declarations are not allowed")


def _read_xml(body: bytes) -> _Element:
    """The root element of ``body``; MalformedXML when it is not well-formed."""
    parser = expat.ParserCreate(namespace_separator=" ")
    stack = [_Element("", {})]

    def start(name: str, attrs: dict[str, str]) -> None:
        element = _Element(_local(name), {_local(k): v for k, v in attrs.items()})
        stack[-1].children.append(element)
        stack.append(element)

    def text(data: str) -> None:  # stack[-1] is looked up per call: it changes
        stack[-1].text.append(data)

    parser.StartElementHandler = start
    parser.EndElementHandler = lambda _: stack.pop()
    parser.CharacterDataHandler = text
    parser.StartDoctypeDeclHandler = _refuse
    parser.EntityDeclHandler = _refuse
    try:
        parser.Parse(body, True)
    except expat.ExpatError as exc:
        raise _malformed() from exc
    return stack[0].children[0]


Reader = Callable[[_Element], Any]


def _scalar_reader(shape: Any) -> Reader:
    def read(element: _Element) -> Any:
        try:
            return _convert(shape, "".join(element.text))
        except ValueError as exc:
            raise _malformed(f"bad value in <{element.name}>") from exc

    return read


class _XmlReaders:
    """Compiles (and caches by shape name) the reader of each input shape."""

    def __init__(self) -> None:
        self._memo: dict[str, Reader] = {}

    def reader(self, shape: Any) -> Reader:
        """The reader for ``shape``, built on first use."""
        found = self._memo.get(shape.name)
        if found is None:
            found = self._build(shape)
            self._memo[shape.name] = found
        return found

    def _build(self, shape: Any) -> Reader:
        if shape.type_name == "structure":
            return self.structure(shape.name, shape.members)
        if shape.type_name == "list":
            item = self.reader(shape.member)
            return lambda element: [item(child) for child in element.children]
        return _scalar_reader(shape)

    def structure(self, key: str, members: Mapping[str, Any]) -> Reader:
        """A reader of the elements (and attributes) of ``members`` without a location."""
        elements: dict[str, tuple[str, Reader, bool]] = {}
        attributes: dict[str, str] = {}

        def read(element: _Element) -> dict[str, Any]:
            out: dict[str, Any] = {}
            for child in element.children:
                found = elements.get(child.name)
                if found is not None and found[2]:
                    out.setdefault(found[0], []).append(found[1](child))
                elif found is not None:
                    out[found[0]] = found[1](child)
            for attribute, name in attributes.items():
                if attribute in element.attrs:
                    out[name] = element.attrs[attribute]
            return out

        self._memo[key] = read  # before the members: a recursive shape finds itself
        for name, member in members.items():
            if "location" in member.serialization:
                continue
            wire = _wire(member, name)
            if member.serialization.get("xmlAttribute"):
                attributes[wire.rpartition(":")[2]] = name
            elif member.type_name == "list" and member.serialization.get("flattened"):
                item = self.reader(member.member)
                elements[wire] = (name, item, True)
                inner = member.member.serialization.get("name")  # what botocore's parser reads
                elements.setdefault(str(inner or wire), (name, item, True))
            else:
                elements[wire] = (name, self.reader(member), False)
        return read


# -- XML out: codec's emitters, plus attributes, prefixed namespaces, timestamp formats ----


class _XmlWriters(OutputPlans):
    """codec's XML emitters (rest-xml writes lists, maps and scalars as the query protocol
    does), plus what only rest-xml has: ``xmlAttribute`` members (the Grantee's
    ``xsi:type``), a shape's prefixed ``xmlNamespace``, and a shape's ``timestampFormat``."""

    def __init__(self) -> None:
        super().__init__("rest-xml")

    def _build(self, shape: Any) -> Emitter:
        style = shape.serialization.get("timestampFormat", "iso8601")
        if shape.type_name != "timestamp" or style == "iso8601":
            return super()._build(shape)

        def emit(value: Any, out: list[str], open_: str, close: str) -> None:
            out.append(open_ + escape(_format_time(value, style)) + close)

        return emit

    def _structure(self, shape: Any) -> Emitter:
        plain = super()._structure(shape)
        members = shape.members.items()
        attributes = {n: _wire(m, n) for n, m in members if m.serialization.get("xmlAttribute")}
        space = shape.serialization.get("xmlNamespace")
        declare = ""
        if isinstance(space, Mapping) and space.get("prefix"):  # the default one is the root's
            declare = f' xmlns:{space["prefix"]}="{escape(space["uri"])}"'
        if not attributes and not declare:
            return plain

        def emit(value: Any, out: list[str], open_: str, close: str) -> None:
            extra = "".join(
                f' {wire}="{escape(str(value[name]))}"'
                for name, wire in attributes.items()
                if value.get(name) is not None
            )
            rest = {k: v for k, v in value.items() if k not in attributes}
            plain(rest, out, f"{open_[:-1]}{declare}{extra}>", close)

        self._memo[shape.name] = emit
        return emit


def _document(emit: Emitter, root: str, value: Any) -> bytes:
    out = [_XML_DECL]
    emit(value, out, f'<{root} xmlns="{NAMESPACE}">', f"</{root}>")
    return "".join(out).encode()


def _no_body(result: Mapping[str, Any]) -> bytes:
    return b""


# -- per-operation plans -------------------------------------------------------------------


@dataclass(frozen=True)
class _Member:
    name: str  # the model's member name
    wire: str  # its label, query key, lower-case header name or header prefix
    shape: Any


@dataclass(frozen=True)
class _InputPlan:
    labels: tuple[tuple[int, str], ...]  # (path segment index, member name)
    query: tuple[_Member, ...]
    query_map: _Member | None  # a map member taking every query key nothing else claims
    claimed: frozenset[str]
    headers: tuple[_Member, ...]
    prefixes: tuple[_Member, ...]
    body: tuple[str | None, Callable[[bytes], Any]] | None  # None: merge into params


@dataclass(frozen=True)
class _OutputPlan:
    status: int
    status_member: str | None
    headers: tuple[_Member, ...]
    prefixes: tuple[_Member, ...]
    body: Callable[[Mapping[str, Any]], bytes]


def _by_location(shape: Any, lower: bool) -> dict[str, list[_Member]]:
    """The members of ``shape`` by location ("" for the body); header names lower-cased
    when ``lower`` (matching a request's), as the model spells them otherwise."""
    found: dict[str, list[_Member]] = {}
    for name, member in ({} if shape is None else shape.members).items():
        location = member.serialization.get("location", "")
        wire = _wire(member, name)
        wire = wire.lower() if lower and location in ("header", "headers") else wire
        found.setdefault(location, []).append(_Member(name, wire, member))
    return found


def _text_body(body: bytes) -> str:
    try:
        return body.decode()
    except UnicodeDecodeError as exc:
        raise ClientError("InvalidArgument", "The request body is not UTF-8 text") from exc


class RestXml:
    """Routes, parses and renders the rest-xml requests of one service (``s3``)."""

    def __init__(self, service: str = "s3") -> None:
        if service != "s3":
            raise ValueError(f"pocketcloud has no rest-xml codec for service {service!r}")
        self.service = service
        self._model = _service_model(service)
        self._readers = _XmlReaders()
        self._writers = _XmlWriters()
        self._inputs: dict[str, _InputPlan] = {}
        self._outputs: dict[str, _OutputPlan] = {}

    def warm(self) -> None:
        """Build the routing table now rather than on the first request."""
        _routes(self.service)

    def operation(self, call: HttpCall) -> str:
        """The operation ``call`` is. Raises MethodNotAllowed (405) when no operation of
        this method addresses a path of this depth, InvalidRequest (400) when some do but
        the request lacks the subresource or required member each needs, and InvalidURI
        (400) for a path or query that does not decode."""
        segments = _split_path(call.path)
        candidates = _routes(self.service).get((call.method, len(segments)))
        if not candidates:  # S3's answer, e.g. to PATCH /bucket or DELETE /
            raise ClientError(
                "MethodNotAllowed",
                "The specified method is not allowed against this resource.",
                status=405,
            )
        query = _query(call.query)
        for route in candidates:
            if route.accepts(segments, query, call.headers):
                return route.operation
        # Our choice (S3 documents none): e.g. POST /bucket/key with no ?uploads or uploadId.
        raise ClientError("InvalidRequest", f"{call.method} needs a subresource on this resource")

    def parse(self, operation: str, call: HttpCall, body: bytes | None) -> dict[str, Any]:
        """The input of ``operation`` from ``call`` and its ``body``, keyed by member name.

        A blob payload (PutObject's and UploadPart's Body) is left out: the caller streams
        it. Raises InvalidURI, InvalidArgument (a header or query value of the wrong type)
        and MalformedXML.
        """
        plan = self._inputs.get(operation) or self._input_plan(operation)
        params: dict[str, Any] = {}
        segments = _split_path(call.path)
        for index, name in plan.labels:
            if index < len(segments):
                params[name] = self._label(segments[index])
        if call.query:
            self._parse_query(plan, _query(call.query), params)
        self._parse_headers(plan, call.headers, params)
        if plan.body is not None and body:
            target, read = plan.body
            value = read(body)
            if target is None:
                params.update(value)
            else:
                params[target] = value
        return params

    def serialize(
        self, operation: str, result: Mapping[str, Any]
    ) -> tuple[int, list[tuple[str, str]], bytes]:
        """Status, headers and body of ``operation``'s answer from its output dict.

        Members that are None, and keys the output shape does not know, are left out; a
        blob payload (GetObject's Body) is not rendered: the caller streams it.
        """
        plan = self._outputs.get(operation) or self._output_plan(operation)
        headers: list[tuple[str, str]] = []
        for member in plan.headers:
            value = result.get(member.name)
            if value is not None and not (member.shape.type_name == "list" and not value):
                headers.append((member.wire, _header_text(member.shape, value)))
        for member in plan.prefixes:
            for key, value in (result.get(member.name) or {}).items():
                headers.append((member.wire + key, str(value)))
        status = plan.status
        if plan.status_member is not None and result.get(plan.status_member) is not None:
            status = int(result[plan.status_member])
        return status, headers, plan.body(result)

    # -- parsing helpers

    @staticmethod
    def _label(segment: str) -> str:
        try:
            return unquote(segment, errors="strict")
        except UnicodeDecodeError as exc:
            raise _bad_uri() from exc

    @staticmethod
    def _parse_query(plan: _InputPlan, query: Query, params: dict[str, Any]) -> None:
        for member in plan.query:
            values = query.get(member.wire)
            if values is None:
                continue
            if member.shape.type_name == "list":
                item = member.shape.member
                params[member.name] = [_argument(item, v, member.wire) for v in values]
            else:
                params[member.name] = _argument(member.shape, values[0], member.wire)
        if plan.query_map is not None:
            listed = plan.query_map.shape.value.type_name == "list"
            rest = {k: v if listed else v[0] for k, v in query.items() if k not in plan.claimed}
            if rest:
                params[plan.query_map.name] = rest

    @staticmethod
    def _parse_headers(
        plan: _InputPlan, headers: Mapping[str, str], params: dict[str, Any]
    ) -> None:
        for member in plan.headers:
            raw = headers.get(member.wire)
            shape = member.shape
            if raw is None or (raw == "" and shape.type_name != "string"):
                continue
            if shape.type_name == "list":
                items = _split_list(raw)
                params[member.name] = [_argument(shape.member, v, member.wire) for v in items]
            else:
                params[member.name] = _argument(shape, raw, member.wire)
        for member in plan.prefixes:
            size = len(member.wire)
            found = {k[size:]: v for k, v in headers.items() if k.startswith(member.wire)}
            if found:
                params[member.name] = found

    # -- plans

    def _operation_model(self, operation: str) -> Any:
        if operation not in self._model.operation_names:
            raise ValueError(f"{self.service} has no operation {operation!r}")
        return self._model.operation_model(operation)

    def _input_plan(self, operation: str) -> _InputPlan:
        op = self._operation_model(operation)
        shape = op.input_shape
        segments, subresources = _pattern(op.http["requestUri"])
        found = _by_location(shape, lower=True)
        labels = {m.wire: m.name for m in found.get("uri", [])}
        query = [m for m in found.get("querystring", []) if m.shape.type_name != "map"]
        maps = [m for m in found.get("querystring", []) if m.shape.type_name == "map"]
        plan = _InputPlan(
            labels=tuple(
                (i, labels[part.strip("{}+")])
                for i, part in enumerate(segments)
                if part.startswith("{")
            ),
            query=tuple(query),
            query_map=maps[0] if maps else None,
            claimed=frozenset([m.wire for m in query] + [key for key, _ in subresources]),
            headers=tuple(found.get("header", [])),
            prefixes=tuple(found.get("headers", [])),
            body=self._body_reader(shape, found.get("", [])),
        )
        self._inputs[operation] = plan
        return plan

    def _body_reader(
        self, shape: Any, body_members: list[_Member]
    ) -> tuple[str | None, Callable[[bytes], Any]] | None:
        payload = None if shape is None else shape.serialization.get("payload")
        if payload is not None:
            member = shape.members[payload]
            if member.type_name == "string":
                return payload, _text_body
            if member.type_name != "structure":
                return None  # a blob or stream: the caller reads it
            read = self._readers.reader(member)
            return payload, lambda body: read(_read_xml(body))
        if not body_members:
            return None
        members = {m.name: m.shape for m in body_members}
        read_all = self._readers.structure(f"{shape.name}#body", members)
        return None, lambda body: read_all(_read_xml(body))

    def _output_plan(self, operation: str) -> _OutputPlan:
        op = self._operation_model(operation)
        found = _by_location(op.output_shape, lower=False)
        statuses = found.get("statusCode", [])
        status = 204 if operation in _NO_CONTENT else int(op.http.get("responseCode", 200))
        plan = _OutputPlan(
            status=status,
            status_member=statuses[0].name if statuses else None,
            headers=tuple(found.get("header", [])),
            prefixes=tuple(found.get("headers", [])),
            body=self._body_writer(operation, op.output_shape, found.get("", [])),
        )
        self._outputs[operation] = plan
        return plan

    def _body_writer(
        self, operation: str, shape: Any, body_members: list[_Member]
    ) -> Callable[[Mapping[str, Any]], bytes]:
        payload = None if shape is None else shape.serialization.get("payload")
        if payload is not None:
            return self._payload_writer(payload, shape.members[payload])
        if not body_members:
            return _no_body
        root = _ROOTS.get(operation, f"{operation}Result")
        names = frozenset(m.name for m in body_members)
        lone = body_members[0]
        if len(body_members) == 1 and _wire(lone.shape, lone.name) == root:
            # GetBucketLocation: the lone scalar is the root's own text.
            emit_lone = self._writers.emitter(lone.shape)
            return lambda result: _document(emit_lone, root, result.get(lone.name) or "")
        emit = self._writers.emitter(shape)
        return lambda result: _document(emit, root, {k: result[k] for k in result if k in names})

    def _payload_writer(self, name: str, member: Any) -> Callable[[Mapping[str, Any]], bytes]:
        if member.type_name == "string":
            return lambda result: str(result.get(name) or "").encode()
        if member.type_name != "structure":
            return _no_body  # a blob or event stream: the caller streams it
        emit = self._writers.emitter(member)
        root = _wire(member, name)

        def write(result: Mapping[str, Any]) -> bytes:
            value = result.get(name)
            return b"" if value is None else _document(emit, root, value)

        return write
