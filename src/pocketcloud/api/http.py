"""The API's HTTP/1.1 protocol: uvicorn's httptools protocol, one write per response.

uvicorn writes a response's status line and headers, then its body: two writes, two TCP
segments, and the client reads twice. For the small answers of an AWS API that second round
trip costs about 5% of a call (bench/api.py, and an A/B of a canned ASGI app). This protocol
holds a response's head back until its first body write, or the end of the response, and
writes both at once. Nothing else of uvicorn's changes (parsing, keep-alive, pipelining,
flow control, timeouts); ``100 Continue`` is never held back.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from typing import Any, Protocol, runtime_checkable

import httptools
from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol

_FINAL_STATUS = b"HTTP/1.1 "
_INTERIM_STATUS = b"HTTP/1.1 1"


class HeldHead(asyncio.Transport):
    """A response cycle's view of the connection's transport: its head waits for the body."""

    def __init__(self, transport: asyncio.Transport) -> None:
        super().__init__()
        self._transport = transport
        self._head: bytes | None = None

    def write(self, data: bytes | bytearray | memoryview) -> None:
        """Hold a final response's head; send it with the next write (side effect: I/O)."""
        head = bytes(data[:10])
        is_head = head.startswith(_FINAL_STATUS) and not head.startswith(_INTERIM_STATUS)
        if self._head is None and is_head:
            self._head = bytes(data)
            return
        if self._head is not None:
            data, self._head = self._head + bytes(data), None
        self._transport.write(data)

    def flush(self) -> None:
        """Send a head still held (a response without body writes, as to HEAD)."""
        if self._head is not None:
            head, self._head = self._head, None
            self._transport.write(head)

    def close(self) -> None:
        """Send what is held, then close the connection."""
        self.flush()
        self._transport.close()

    def is_closing(self) -> bool:
        return self._transport.is_closing()

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return self._transport.get_extra_info(name, default)


class OneWriteHttp(HttpToolsProtocol):
    """uvicorn's httptools protocol whose responses leave in one write (pass as ``http=``)."""

    def on_headers_complete(self) -> None:
        super().on_headers_complete()
        cycle = self.cycle
        if cycle is None or isinstance(cycle.transport, HeldHead):
            return
        held = HeldHead(cycle.transport)
        cycle.transport = held
        cycle.on_response = _flushing(held, cycle.on_response)


def _flushing(held: HeldHead, on_response: Callable[[], None]) -> Callable[[], None]:
    def finished() -> None:
        held.flush()
        on_response()

    return finished


@runtime_checkable
class DirectApp(Protocol):
    """An ASGI app that can also answer some whole requests synchronously (``Api``)."""

    #: bodies past this size are not kept: ``answer`` is told ``too_big``
    max_body: int

    def answers_directly(
        self, method: bytes, raw_path: bytes, raw_headers: Sequence[tuple[bytes, bytes]]
    ) -> bool:
        """Whether ``answer`` takes this request, once its whole body is in."""

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
        """Status, headers and body for the request; never raises."""


class ApiHttp(OneWriteHttp):
    """The API's protocol: AWS calls are answered straight from the parser, no ASGI cycle.

    An AWS query-protocol call is a small form posted to ``/``; the API answers it
    synchronously anyway. uvicorn would still make an ASGI scope, a task, an event and
    four message dicts for it — a third of what a Describe costs on the server
    (bench/api.py). Requests the app's ``answers_directly`` takes, with no ``Expect``,
    no upgrade and no earlier response still being written, are collected here and
    answered with ``answer`` in one write; everything else (the console) takes uvicorn's
    ASGI path. Keep-alive, pipelining and HTTP/1.0 behave as uvicorn's own.
    """

    _answerer: DirectApp | None = None
    _direct: list[bytes] | None = None
    _direct_size = 0
    _direct_method = b""
    _direct_url: Any = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._answerer = self.app if isinstance(self.app, DirectApp) else None

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._direct = None

    def on_headers_complete(self) -> None:
        if self._can_answer_directly():
            return
        super().on_headers_complete()

    def _can_answer_directly(self) -> bool:
        app = self._answerer
        if app is None or self.expect_100_continue:
            return False
        if self.parser.should_upgrade() or self.pipeline:
            return False
        if self.cycle is not None and not self.cycle.response_complete:
            return False  # answered in order: an earlier response is still being written
        method = self.parser.get_method()
        url = httptools.parse_url(self.url)
        if not app.answers_directly(method, url.path, self.headers):
            return False
        self._direct, self._direct_size = [], 0
        self._direct_method, self._direct_url = method, url
        return True

    def on_body(self, body: bytes) -> None:
        if self._direct is None:
            super().on_body(body)
            return
        self._direct_size += len(body)
        if self._direct_size <= self._limit():  # past it the answer is "too large"
            self._direct.append(body)

    def on_message_complete(self) -> None:
        if self._direct is None:
            super().on_message_complete()
            return
        body, self._direct = b"".join(self._direct), None
        keep_alive = self.parser.get_http_version() != "1.0" and self.parser.should_keep_alive()
        self.transport.write(self._response(body, keep_alive))
        if not keep_alive:
            self.transport.close()
            return
        self.on_response_complete()

    def _limit(self) -> int:
        return self._answerer.max_body if self._answerer is not None else 0

    def _response(self, body: bytes, keep_alive: bool) -> bytes:
        url = self._direct_url
        try:
            assert self._answerer is not None
            status, headers, payload = self._answerer.answer(
                self._direct_method,
                url.path,
                url.query or b"",
                self.headers,
                body,
                self.client,
                self._direct_size > self._limit(),
            )
        except Exception:  # the app promises not to raise; if it does, answer as uvicorn would
            self.logger.exception("Exception in direct answer")
            status, headers, payload = 500, [(b"content-length", b"0")], b""
        out = [STATUS_LINE[status]]
        for name, value in [*self.server_state.default_headers, *headers]:
            out += [name, b": ", value, b"\r\n"]
        if not keep_alive:
            out.append(b"connection: close\r\n")
        out += [b"\r\n", payload]
        return b"".join(out)
