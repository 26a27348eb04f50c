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
from collections.abc import Callable
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

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
