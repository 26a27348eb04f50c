"""S3's HTTP edge (ASGI): the caller is authenticated and authorized before a body is
read; bodies stream both ways, never whole in memory.

    headers → SigV4 (declared payload digest) → operation (rest-xml) → params → IAM
      → body: streamed into a blob (PutObject, UploadPart) or read whole (XML, ≤ 1 MiB)
      → digests checked → handler → headers + XML, or the object's bytes in chunks

A browser's form upload (a POST to a bucket with no subresource) carries its own
authentication, a signed POST policy: post.py takes it before SigV4 and the codec.

Every failure becomes S3's XML error (``<Error><Code>…``), or, once the answer has
started, a closed connection: nothing partial is ever stored.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import functools
import hashlib
import logging
import secrets
from collections.abc import Callable, Iterable
from dataclasses import replace
from datetime import datetime
from typing import Any
from xml.sax.saxutils import escape

import botocore.loaders
import botocore.model

from pocketcloud.api import sigv2, sigv4
from pocketcloud.api.asgi import Disconnected, Message, Receive, Scope, Send, body_chunks
from pocketcloud.api.authenticate import authenticate, authenticate_v2, signature_error
from pocketcloud.api.authorize import authorize
from pocketcloud.api.call import Call, Result
from pocketcloud.api.registry import SERVED
from pocketcloud.api.restxml import HttpCall, RestXml
from pocketcloud.api.s3 import actions, checksums, chunked, cors, hosts, post
from pocketcloud.errors import ClientError, CloudError, DetailedError, ServerError
from pocketcloud.services.context import Cloud
from pocketcloud.services.iam.principals import ANONYMOUS, Principal
from pocketcloud.services.s3 import buckets
from pocketcloud.services.s3.common import blobs
from pocketcloud.store.blobs import BlobWriter

log = logging.getLogger("pocketcloud.api.s3")


#: an XML request body (DeleteObjects, CompleteMultipartUpload, configurations) is read whole
MAX_XML_BODY = 1024 * 1024
#: operations whose handler copies an object's bytes (a 5 GiB object takes seconds): they
#: run on a worker thread, and the API (EC2 too) goes on answering meanwhile
COPYING = frozenset({"CompleteMultipartUpload", "UploadPartCopy", "CopyObject"})
#: a body at least this large is fsynced and renamed on a worker thread
SETTLE_ELSEWHERE = 1024 * 1024
_HEX = frozenset("0123456789abcdef")


class S3Edge:
    """The S3 service's ASGI app (the API routes S3-signed and anonymous calls here)."""

    def __init__(self, cloud: Cloud, clock: Callable[[], datetime]) -> None:
        self.cloud = cloud
        self.clock = clock
        self.codec = RestXml()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request_id = secrets.token_hex(8).upper()
        started: list[bool] = []
        body = _Body(receive, scope)
        try:
            await self._serve(scope, body.receive, _marking(send, started), request_id)
        except CloudError as error:
            if not started:
                await _send_error(send, scope, error, request_id, close=body.pending)
        except Exception:
            log.exception("internal error in S3 request %s", request_id)
            if not started:
                await _send_error(send, scope, ServerError(), request_id, close=body.pending)

    async def _serve(self, scope: Scope, receive: Receive, send: Send, request_id: str) -> None:
        headers = sigv4.fold_headers(scope["headers"])
        sent_path = (scope.get("raw_path") or scope["path"].encode()).decode("latin-1")
        # what the codec, IAM and SigV2 read: the bucket in the path even if the Host named it
        raw_path = hosts.path_style(headers.get("host", ""), sent_path)
        query = scope.get("query_string", b"").decode("latin-1")
        if scope["method"] == "OPTIONS":  # a browser's preflight: unsigned, judged by CORS
            await _send(send, 200, cors.preflight(self.cloud, raw_path, headers), request_id)
            return
        if post.addresses(scope["method"], raw_path, query):  # a browser's form upload
            upload = post.Request(self.cloud, self.codec, self.clock, scope, headers, raw_path)
            await post.serve(upload, receive, send, _ids(request_id))
            return
        http = sigv4.HttpRequest(scope["method"], sent_path, query, headers, b"")
        call = HttpCall(scope["method"], raw_path, query, headers)
        principal, signature = self._caller(http, raw_path)
        region = signature.credential.region if signature else self.cloud.region
        operation = self.codec.operation(call)
        streaming = streams_in(operation)
        body = None if streaming else await _read_xml(receive, headers)
        params = self.codec.parse(operation, call, body)
        if signature is not None and params.get("Bucket"):
            check_region(self.cloud, params["Bucket"], signature)
        client = scope.get("client") or ("127.0.0.1", 0)
        if operation not in actions.PER_KEY:
            authorize(self.cloud, principal, "s3", operation, params, client[0], region)
        handler = SERVED["s3"].handlers.get(operation)
        if handler is None:
            raise ClientError(
                "NotImplemented", f"{operation} is not implemented by pocketcloud", status=501
            )
        context = Call(self.cloud, principal, "s3", operation, request_id, client[0], region)
        if streaming:
            dechunker = _dechunker(headers, principal, signature)
            writer = blobs(self.cloud).writer()
            params["Body"] = await _receive_blob(receive, headers, writer, dechunker)
            if writer.size >= SETTLE_ELSEWHERE:  # fsync a large body on a worker thread:
                try:  # other requests go on meanwhile (a small one costs less than the hop)
                    await asyncio.to_thread(writer.settle)
                except BaseException:
                    writer.discard()
                    raise
        try:
            if operation in COPYING:  # the kernel copies bytes: off the event loop
                result = await asyncio.to_thread(handler, context, params)
            else:
                result = handler(context, params)
        finally:
            if streaming:
                params["Body"].discard()  # a no-op once the handler committed it
        allow = cors.response_headers(self.cloud, scope["method"], raw_path, headers)
        await self._answer(send, operation, result, request_id, allow)

    def _caller(
        self, http: sigv4.HttpRequest, path: str
    ) -> tuple[Principal, sigv4.Signature | None]:
        """Who signed the request (``ANONYMOUS`` for an unsigned one), and the SigV4
        signature (None for a SigV2 URL, which signs the path-style ``path``, and for an
        unsigned request)."""
        try:
            presigned_v2 = sigv2.parse(http.query)
        except sigv2.SigV2Error as error:
            raise ClientError("AccessDenied", error.message, status=403) from error
        if presigned_v2 is not None:
            v2 = replace(http, path=path)
            return authenticate_v2(self.cloud, v2, presigned_v2, self.clock()), None
        try:
            signature = sigv4.parse(http)
        except sigv4.SigV4Error as error:
            raise signature_error("s3", error, presigned=False) from error
        if signature is None:  # anonymous: only a bucket policy can let it in
            return ANONYMOUS, None
        principal = authenticate(self.cloud, http, signature, self.clock(), "s3")
        return principal, signature

    async def _answer(
        self,
        send: Send,
        operation: str,
        result: Result,
        request_id: str,
        extra: list[tuple[str, str]],
    ) -> None:
        stream: Iterable[bytes] | None = result.pop("Body", None)
        status, headers, xml = self.codec.serialize(operation, result)
        headers = [*headers, *extra]
        if operation == "GetObject" and "ContentRange" in result:
            status = 206
        raw = [(name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in headers]
        raw += _ids(request_id)
        if stream is None and xml:
            raw.append((b"content-type", b"application/xml"))
        if stream is None and not any(name == b"content-length" for name, _ in raw):
            raw.append((b"content-length", str(len(xml)).encode()))
        await send({"type": "http.response.start", "status": status, "headers": raw})
        if stream is None:
            await send({"type": "http.response.body", "body": xml})
            return
        for chunk in stream:
            await send({"type": "http.response.body", "body": chunk, "more_body": True})
        await send({"type": "http.response.body", "body": b""})


@functools.cache
def _s3_model() -> Any:
    loader = botocore.loaders.create_loader()
    return botocore.model.ServiceModel(loader.load_service_model("s3", "service-2"), "s3")


@functools.cache
def streams_in(operation: str) -> bool:
    """Whether the operation's request body is a blob to stream (PutObject, UploadPart)."""
    shape = _s3_model().operation_model(operation).input_shape
    payload = shape.serialization.get("payload") if shape is not None else None
    return bool(payload) and shape.members[payload].type_name == "blob"


def check_region(cloud: Cloud, bucket: str, signature: sigv4.Signature) -> None:
    """A request on a bucket must be signed for the bucket's region, as S3 requires; the
    answer names the right one (``<Region>``), which SDKs follow and sign again."""
    want = buckets.region_of(cloud, bucket)
    got = signature.credential.region
    if want is None or got == want:
        return
    if signature.presigned:
        code = "AuthorizationQueryParametersError"
        message = f"Error parsing the X-Amz-Credential parameter; the region '{got}' is wrong; "
    else:
        code = "AuthorizationHeaderMalformed"
        message = f"The authorization header is malformed; the region '{got}' is wrong; "
    raise DetailedError(code, message + f"expecting '{want}'", [("Region", want)], status=400)


def _dechunker(
    headers: dict[str, str], principal: Principal, signature: sigv4.Signature | None
) -> chunked.Dechunker | None:
    """The decoder of an aws-chunked body (its signing chained from the request's), or
    None for a plain one."""
    mode = headers.get("x-amz-content-sha256", "")
    if mode not in chunked.MODES:
        return None
    if mode == chunked.UNSIGNED_TRAILER or signature is None:
        return chunked.Dechunker(mode)
    scope = signature.credential
    key = sigv4.signing_key(principal.secret, scope.date, scope.region, scope.service)
    stamp = sigv4.format_timestamp(signature.timestamp)
    where = f"{scope.date}/{scope.region}/{scope.service}/{sigv4.TERMINATOR}"
    return chunked.Dechunker(mode, chunked.Signing(key, stamp, where, signature.signature))


async def _receive_blob(
    receive: Receive,
    headers: dict[str, str],
    writer: BlobWriter,
    dechunker: chunked.Dechunker | None = None,
) -> BlobWriter:
    """The request body streamed into ``writer`` (decoded if aws-chunked), its digests
    checked (the partial body is dropped on any failure)."""
    try:
        writer.hashers = dict(checksums.wanted(headers, trailing=dechunker is not None))
        async for chunk in body_chunks(receive):
            writer.write(dechunker.feed(chunk) if dechunker else chunk)
        declared = dict(headers)
        if dechunker is not None:
            dechunker.finish()
            declared.update(dechunker.trailers)
            _check_decoded_length(headers, writer.size)
        check_digests(headers, writer.sha256.hexdigest(), writer.md5.digest())
        writer.checksums = checksums.check(declared, writer.hashers)
    except Disconnected:
        writer.discard()
        raise ClientError("IncompleteBody", "The request body ended early.") from None
    except BaseException:
        writer.discard()
        raise
    return writer


def _check_decoded_length(headers: dict[str, str], size: int) -> None:
    declared = headers.get("x-amz-decoded-content-length")
    if declared is not None and declared.strip() != str(size):
        raise ClientError(
            "IncompleteBody",
            "You did not provide the number of bytes specified by the "
            "x-amz-decoded-content-length HTTP header.",
        )


async def _read_xml(receive: Receive, headers: dict[str, str]) -> bytes:
    """A small request body, whole (MaxMessageLengthExceeded past 1 MiB)."""
    chunks: list[bytes] = []
    size = 0
    with contextlib.suppress(Disconnected):
        async for chunk in body_chunks(receive):
            size += len(chunk)
            if size > MAX_XML_BODY:
                raise ClientError("MaxMessageLengthExceeded", "Your request was too big.")
            chunks.append(chunk)
    body = b"".join(chunks)
    md5 = hashlib.md5(body, usedforsecurity=False).digest()
    check_digests(headers, hashlib.sha256(body).hexdigest(), md5)
    return body


def check_digests(headers: dict[str, str], sha256_hex: str, md5: bytes) -> None:
    """The body against what the request declared: the signed SHA-256
    (XAmzContentSHA256Mismatch) and Content-MD5 (InvalidDigest, BadDigest)."""
    declared = headers.get("x-amz-content-sha256", "").lower()
    if len(declared) == 64 and set(declared) <= _HEX and declared != sha256_hex:
        raise ClientError(
            "XAmzContentSHA256Mismatch",
            "The provided 'x-amz-content-sha256' header does not match what was computed.",
        )
    checksums.check_md5(headers.get("content-md5"), md5)


def _ids(request_id: str) -> list[tuple[bytes, bytes]]:
    host_id = base64.b64encode(hashlib.sha256(request_id.encode()).digest()).decode()
    return [(b"x-amz-request-id", request_id.encode()), (b"x-amz-id-2", host_id.encode())]


async def _send(send: Send, status: int, headers: list[tuple[str, str]], request_id: str) -> None:
    """An answer with headers and no body."""
    raw = [(name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in headers]
    raw += [*_ids(request_id), (b"content-length", b"0")]
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": b""})


def _marking(send: Send, started: list[bool]) -> Send:
    async def marked(message: Message) -> None:
        if message["type"] == "http.response.start":
            started.append(True)
        await send(message)

    return marked


class _Body:
    """Whether the request's body is still unread (a wrapper of ``receive``): an answer
    before it is read must close the connection, or the body's bytes, which a client that
    waited for ``100 Continue`` never sends, would be read as the next request."""

    def __init__(self, receive: Receive, scope: Scope) -> None:
        self._receive = receive
        self.pending = _declares_body(scope)

    async def receive(self) -> Message:
        message = await self._receive()
        if message["type"] == "http.disconnect" or not message.get("more_body", False):
            self.pending = False
        return message


def _declares_body(scope: Scope) -> bool:
    for name, value in scope["headers"]:
        if name == b"content-length":
            return value.strip() not in (b"", b"0")
        if name == b"transfer-encoding":
            return True
    return False


async def _send_error(
    send: Send, scope: Scope, error: CloudError, request_id: str, *, close: bool = False
) -> None:
    body = render_error(error, request_id)
    headers = [(b"content-type", b"application/xml"), *_ids(request_id)]
    if close:
        headers.append((b"connection", b"close"))
    if scope["method"] == "HEAD" or error.status == 304:  # no body: HEAD, Not Modified
        body = b""
    headers.append((b"content-length", str(len(body)).encode()))
    await send({"type": "http.response.start", "status": error.status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def render_error(error: CloudError, request_id: str) -> bytes:
    """S3's error body: ``<Error>`` with Code, Message, the error's details (S3's
    ``ArgumentName``, …) and RequestId, no namespace."""
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f"<Error><Code>{escape(error.code)}</Code><Message>{escape(error.message)}</Message>"
        + "".join(f"<{name}>{escape(value)}</{name}>" for name, value in error.details)
        + f"<RequestId>{request_id}</RequestId></Error>"
    ).encode()
