"""ASGI's types as the API's apps use them, and a request body read as its chunks."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, MutableMapping
from typing import Any

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]


class Disconnected(Exception):
    """The client went away before the request body ended."""


async def body_chunks(receive: Receive) -> AsyncIterator[bytes]:
    """Each non-empty chunk of the request body, as it arrives (Disconnected if the client
    leaves first). Nothing is buffered here: uvicorn pauses reading until it is asked."""
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise Disconnected
        chunk: bytes = message.get("body", b"")
        if chunk:
            yield chunk
        if not message.get("more_body", False):
            return
