"""The server side of botocore's ``rest-xml`` protocol (S3), driven by its service model.

``RestXml.operation`` names the operation a request is, from its method, path shape,
subresource keys and required query/header members; ``RestXml.parse`` turns the URI
labels, query, headers and XML body into a dict keyed by the model's member names, as a
boto3 user writes them; ``RestXml.serialize`` renders a handler's result dict as status,
headers and XML body. Paths are S3 path-style (``/``, ``/{Bucket}``, ``/{Bucket}/{Key+}``).
Nothing here knows one operation, except the root element names of response bodies
(``_ROOTS``) and two 204 answers (``_NO_CONTENT``), which the model does not carry.
Error bodies are rendered elsewhere. Routing lives in ``_rest_routes``, XML reading and
writing in ``_rest_xml``, and the text of typed values in ``_rest_values``; this module
turns each operation's model into the plans that use them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

from pocketcloud.api._rest_routes import (
    Query,
    bad_uri,
    pattern,
    routes,
    service_model,
    split_path,
    split_query,
)
from pocketcloud.api._rest_values import argument, header_text, split_list, wire_name
from pocketcloud.api._rest_xml import (
    NAMESPACE,
    XmlReaders,
    XmlWriters,
    document,
    no_body,
    read_xml,
)
from pocketcloud.errors import ClientError

__all__ = ["NAMESPACE", "HttpCall", "RestXml"]


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


@dataclass(frozen=True)
class HttpCall:
    """What the server saw of one request; header names lower-case."""

    method: str
    path: str  # raw, still percent-encoded, path-style: "/", "/{bucket}" or "/{bucket}/{key}"
    query: str  # raw query string, without "?"
    headers: Mapping[str, str]


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
        wire = wire_name(member, name)
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
        self._model = service_model(service)
        self._readers = XmlReaders()
        self._writers = XmlWriters()
        self._inputs: dict[str, _InputPlan] = {}
        self._outputs: dict[str, _OutputPlan] = {}

    def warm(self) -> None:
        """Build the routing table now rather than on the first request."""
        routes(self.service)

    def operation(self, call: HttpCall) -> str:
        """The operation ``call`` is. Raises MethodNotAllowed (405) when no operation of
        this method addresses a path of this depth, InvalidRequest (400) when some do but
        the request lacks the subresource or required member each needs, and InvalidURI
        (400) for a path or query that does not decode."""
        segments = split_path(call.path)
        candidates = routes(self.service).get((call.method, len(segments)))
        if not candidates:  # S3's answer, e.g. to PATCH /bucket or DELETE /
            raise ClientError(
                "MethodNotAllowed",
                "The specified method is not allowed against this resource.",
                status=405,
            )
        query = split_query(call.query)
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
        segments = split_path(call.path)
        for index, name in plan.labels:
            if index < len(segments):
                params[name] = self._label(segments[index])
        if call.query:
            self._parse_query(plan, split_query(call.query), params)
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
                headers.append((member.wire, header_text(member.shape, value)))
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
            raise bad_uri() from exc

    @staticmethod
    def _parse_query(plan: _InputPlan, query: Query, params: dict[str, Any]) -> None:
        for member in plan.query:
            values = query.get(member.wire)
            if values is None:
                continue
            if member.shape.type_name == "list":
                item = member.shape.member
                params[member.name] = [argument(item, v, member.wire) for v in values]
            else:
                params[member.name] = argument(member.shape, values[0], member.wire)
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
                items = split_list(raw)
                params[member.name] = [argument(shape.member, v, member.wire) for v in items]
            else:
                params[member.name] = argument(shape, raw, member.wire)
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
        segments, subresources = pattern(op.http["requestUri"])
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
            return payload, lambda body: read(read_xml(body))
        if not body_members:
            return None
        members = {m.name: m.shape for m in body_members}
        read_all = self._readers.structure(f"{shape.name}#body", members)
        return None, lambda body: read_all(read_xml(body))

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
            return no_body
        root = _ROOTS.get(operation, f"{operation}Result")
        names = frozenset(m.name for m in body_members)
        lone = body_members[0]
        if len(body_members) == 1 and wire_name(lone.shape, lone.name) == root:
            # GetBucketLocation: the lone scalar is the root's own text.
            emit_lone = self._writers.emitter(lone.shape)
            return lambda result: document(emit_lone, root, result.get(lone.name) or "")
        emit = self._writers.emitter(shape)
        return lambda result: document(emit, root, {k: result[k] for k in result if k in names})

    def _payload_writer(self, name: str, member: Any) -> Callable[[Mapping[str, Any]], bytes]:
        if member.type_name == "string":
            return lambda result: str(result.get(name) or "").encode()
        if member.type_name != "structure":
            return no_body  # a blob or event stream: the caller streams it
        emit = self._writers.emitter(member)
        root = wire_name(member, name)

        def write(result: Mapping[str, Any]) -> bytes:
            value = result.get(name)
            return b"" if value is None else document(emit, root, value)

        return write
