"""The ASGI application: one endpoint for every service.

A request passes one ordered chain::

    read body → decode form → pick service → authenticate (SigV4)
      → parse (codec) → authorize (IAM) → DryRun → dispatch → serialize

Every failure becomes an AWS-format error from ``pocketcloud.api.errors``;
nothing else ever reaches the client. A call comes in one of two ways, both to ``answer``:
straight from the HTTP parser (``api.http.ApiHttp``, for forms posted to ``/`` — every
AWS SDK call) or through ASGI (anything else, such as ``Expect: 100-continue``). Paths
under ``/console`` go to the web console (``pocketcloud.api.console``), which AWS clients
never ask for (they post to ``/``).
"""

from __future__ import annotations

import contextlib
import functools
import logging
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime

from pocketcloud import ids
from pocketcloud.api import sigv4
from pocketcloud.api.asgi import Disconnected, Receive, Scope, Send, body_chunks
from pocketcloud.api.authenticate import authenticate
from pocketcloud.api.authorize import authorize
from pocketcloud.api.call import Call
from pocketcloud.api.codec import codec_for
from pocketcloud.api.errors import render_error
from pocketcloud.api.form import form_pairs
from pocketcloud.api.registry import REGISTRIES
from pocketcloud.api.s3 import hosts
from pocketcloud.api.s3.edge import S3Edge
from pocketcloud.errors import ClientError, CloudError, MalformedQueryString, ServerError
from pocketcloud.services.context import Cloud

log = logging.getLogger("pocketcloud.api")

MAX_BODY = 1024 * 1024
MAX_FIELDS = 10000
VERSIONS = {"2016-11-15": "ec2", "2010-05-08": "iam", "2011-06-15": "sts"}
CONSOLE = "/console"
FORM = b"application/x-www-form-urlencoded"


class Request:
    """What the pipeline knows about a request so far."""

    def __init__(self, http: sigv4.HttpRequest, source_ip: str) -> None:
        self.http = http
        self.source_ip = source_ip
        self.request_id = ids.request_id()
        self.service = "ec2"
        self.form: dict[str, str] = {}


class Api:
    """The control plane's HTTP API (ASGI 3; ``answer`` for ``ApiHttp``'s direct calls)."""

    max_body = MAX_BODY

    def __init__(
        self,
        cloud: Cloud,
        clock: Callable[[], datetime] | None = None,
        on_startup: Sequence[Callable[[], Awaitable[object]]] = (),
        on_shutdown: Sequence[Callable[[], object]] = (),
    ) -> None:
        self.cloud = cloud
        self.clock = clock or (lambda: datetime.now(UTC))
        self.on_startup = list(on_startup)
        self.on_shutdown = list(on_shutdown)
        self._console: Callable[[Scope, Receive, Send], Awaitable[None]] | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        if scope["path"] == CONSOLE or scope["path"].startswith(CONSOLE + "/"):
            await self.console()(scope, receive, send)
            return
        if wants_s3(scope):
            await self.s3(scope, receive, send)
            return
        body, too_big = await _read_body(receive)
        query = scope.get("query_string", b"")
        raw_path = scope.get("raw_path") or scope["path"].encode()
        client = scope.get("client")
        status, headers, payload = self.answer(
            scope["method"].encode(), raw_path, query, scope["headers"], body, client, too_big
        )
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": payload})

    def answers_directly(
        self, method: bytes, raw_path: bytes, raw_headers: Sequence[tuple[bytes, bytes]]
    ) -> bool:
        """Whether a request is an AWS query-protocol call (a form posted to ``/``), which
        ``answer`` takes whole; the console and S3 go through ASGI."""
        if raw_path != b"/" or method != b"POST":
            return False
        for name, value in raw_headers:
            if name == b"content-type":
                return value.startswith(FORM)
        return False

    def answer(
        self,
        method: bytes,
        raw_path: bytes,
        query: bytes,
        raw_headers: Sequence[tuple[bytes, bytes]],
        body: bytes,
        client: tuple[str, int] | None,
        too_big: bool = False,
    ) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
        """The status, headers and body answering one API call (never raises)."""
        http = sigv4.HttpRequest(
            method=method.decode("latin-1"),
            path=raw_path.decode("latin-1"),
            query=query.decode("latin-1"),
            headers=sigv4.fold_headers(raw_headers),
            body=body,
        )
        request = Request(http, client[0] if client else "127.0.0.1")
        status, payload = self.handle(request, too_big or len(body) > self.max_body)
        headers = [
            (b"content-type", b"text/xml"),
            (b"content-length", str(len(payload)).encode()),
            (b"x-amzn-requestid", request.request_id.encode()),
        ]
        return status, headers, payload

    def warm(self) -> None:
        """Load every service's model and codec now rather than on its first request."""
        for service in REGISTRIES:
            codec_for(service)
        self.s3.codec.warm()

    @functools.cached_property
    def s3(self) -> S3Edge:
        """S3's edge: streams bodies, so it is an ASGI app of its own."""
        return S3Edge(self.cloud, self.clock)

    def console(self) -> Callable[[Scope, Receive, Send], Awaitable[None]]:
        """The web console's ASGI app, made on its first request (keeps start-up lean)."""
        if self._console is None:
            from pocketcloud.api.console.app import make_console  # noqa: PLC0415

            self._console = make_console(self.cloud)
        return self._console

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        """Start-up hooks (e.g. the metadata server) and shutdown steps, in the server's loop.

        Shutdown steps run here because uvicorn re-raises SIGTERM once it has shut
        down, so code after ``uvicorn.run`` never runs on a signal.
        """
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                try:
                    for hook in self.on_startup:
                        await hook()
                except Exception as exc:  # reported to uvicorn, which exits
                    log.exception("start-up failed")
                    await send({"type": "lifespan.startup.failed", "message": str(exc)})
                    return
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                for stop in self.on_shutdown:
                    try:
                        stop()
                    except Exception:
                        log.exception("shutdown step failed")
                await send({"type": "lifespan.shutdown.complete"})
                return

    def handle(self, request: Request, too_big: bool = False) -> tuple[int, bytes]:
        """Run the whole chain for one request; always returns an AWS-format answer."""
        try:
            if too_big:
                raise ClientError("RequestEntityTooLarge", "Request body is too large", status=413)
            return 200, self._run(request)
        except CloudError as error:
            return error.status, render_error(request.service, error, request.request_id)
        except Exception:
            log.exception("internal error in request %s", request.request_id)
            internal = ServerError()
            return internal.status, render_error(request.service, internal, request.request_id)

    def _run(self, request: Request) -> bytes:
        request.form = _decode_form(request.http)
        signature = sigv4.parse(request.http, request.form)
        request.service = _pick_service(signature, request.form)
        principal = authenticate(self.cloud, request.http, signature, self.clock(), request.service)
        codec = codec_for(request.service)
        params = {k: v for k, v in request.form.items() if not k.startswith("X-Amz-")}
        operation, args = codec.parse(params)
        region = signature.credential.region if signature else self.cloud.region
        authorize(
            self.cloud, principal, request.service, operation, args, request.source_ip, region
        )
        if request.service == "ec2" and args.get("DryRun"):
            raise ClientError(
                "DryRunOperation",
                "Request would have succeeded, but DryRun flag is set.",
                status=412,
            )
        handler = REGISTRIES[request.service].handlers.get(operation)
        if handler is None:
            raise ClientError(
                "InvalidAction", f"The action {operation} is not valid for this web service."
            )
        call = Call(
            self.cloud,
            principal,
            request.service,
            operation,
            request.request_id,
            request.source_ip,
            region,
        )
        return codec.serialize(operation, handler(call, args), request.request_id)


def wants_s3(scope: Scope) -> bool:
    """Whether a request is for S3: its SigV4 scope (header or presigned URL) or its Host
    (``<bucket>.s3.localhost``) says so, or, unsigned, it is not a query-protocol call (a
    form posted to ``/``, or ``?Action=``)."""
    for name, value in scope["headers"]:
        if name == b"authorization":
            return b"/s3/aws4_request" in value
        if name == b"host" and hosts.bucket_of(value.decode("latin-1")) is not None:
            return True
    query: bytes = scope.get("query_string", b"")
    if b"X-Amz-Credential=" in query:
        return b"%2Fs3%2Faws4_request" in query or b"/s3/aws4_request" in query
    query_call = scope["path"] == "/" and (scope["method"] == "POST" or b"Action=" in query)
    return not query_call


def _pick_service(signature: sigv4.Signature | None, form: dict[str, str]) -> str:
    """The service named in the credential scope; for unsigned calls, by API version."""
    if signature is not None:
        service = signature.credential.service
        if service not in REGISTRIES or service == "s3":
            raise ClientError(
                "InvalidAction", f"This endpoint does not serve the service '{service[:64]}'"
            )
        return service
    return VERSIONS.get(form.get("Version", ""), "ec2")


def _decode_form(http: sigv4.HttpRequest) -> dict[str, str]:
    """Query-string and form-body parameters (the body wins on a clash)."""
    form: dict[str, str] = {}
    try:
        for source in (http.query, _form_body(http)):
            if not source:
                continue
            for key, value in form_pairs(source, MAX_FIELDS):
                form.setdefault(key, value)
    except (UnicodeDecodeError, ValueError) as exc:
        raise MalformedQueryString(f"The request could not be decoded: {exc}") from exc
    return form


def _form_body(http: sigv4.HttpRequest) -> str:
    content_type = http.headers.get("content-type", "")
    if not http.body or (content_type and "x-www-form-urlencoded" not in content_type):
        return ""
    return http.body.decode("utf-8")


async def _read_body(receive: Receive) -> tuple[bytes, bool]:
    """The whole body, or (b"", True) past MAX_BODY (what arrives is counted, not kept)."""
    chunks: list[bytes] = []
    size = 0
    with contextlib.suppress(Disconnected):
        async for chunk in body_chunks(receive):
            size += len(chunk)
            if size <= MAX_BODY:
                chunks.append(chunk)
    return (b"", True) if size > MAX_BODY else (b"".join(chunks), False)
