"""The instance metadata service's HTTP side: a small asyncio HTTP/1.1 server.

Instances reach it at 169.254.169.254:80; the host redirects that address to
this server's port (see ``pocketcloud.host.network``). The client's source
address says which instance is asking; anything else gets 403.
"""

from __future__ import annotations

import asyncio
import logging
import time

from pocketcloud.host import daemon
from pocketcloud.services.context import Cloud
from pocketcloud.services.ec2 import metadata

log = logging.getLogger("pocketcloud.imds")
MAX_HEADER_BYTES = 16 * 1024
REASONS = {
    200: "OK",
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
}


async def _read_head(reader: asyncio.StreamReader) -> tuple[str, str, dict[str, str]] | None:
    try:
        raw = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), timeout=10)
    except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, TimeoutError):
        return None
    lines = raw.decode("latin-1").split("\r\n")
    parts = lines[0].split(" ")
    if len(parts) != 3:
        return None
    headers = {}
    for line in lines[1:]:
        name, sep, value = line.partition(":")
        if sep:
            headers[name.strip().lower()] = value.strip()
    return parts[0], parts[1].split("?")[0], headers


def respond(status: int, body: bytes, content_type: str = "text/plain") -> bytes:
    """An HTTP/1.1 response that closes the connection."""
    head = (
        f"HTTP/1.1 {status} {REASONS.get(status, 'Error')}\r\n"
        f"Content-Type: {content_type}\r\nContent-Length: {len(body)}\r\n"
        "Connection: close\r\nServer: EC2ws\r\n\r\n"
    )
    return head.encode() + body


class MetadataServer:
    """Serves IMDS for one cloud's instances."""

    def __init__(self, cloud: Cloud) -> None:
        self.cloud = cloud

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """One connection, one request."""
        try:
            head = await _read_head(reader)
            if head is None:
                writer.write(respond(400, b""))
                return
            method, path, headers = head
            peer = writer.get_extra_info("peername")
            instance = metadata.by_address(self.cloud, peer[0] if peer else "")
            if instance is None:
                writer.write(respond(403, b""))
                return
            answer = metadata.answer(self.cloud, instance, method, path, headers, time.time())
            writer.write(respond(answer.status, answer.body, answer.content_type))
        except Exception:
            log.exception("metadata request failed")
            writer.write(respond(500, b""))
        finally:
            try:
                await writer.drain()
            finally:
                writer.close()

    async def serve(self, host: str, port: int) -> asyncio.Server:
        """Start listening (the caller's event loop keeps it running).

        ``host`` is the instances' gateway address, which exists only while an
        instance does, so the socket binds with IP_FREEBIND.
        """
        sock = daemon.listener(host, port, freebind=True)
        return await asyncio.start_server(self.handle, sock=sock, limit=MAX_HEADER_BYTES)
