"""The API's HTTP protocol holds a response's head until its body, so both leave in one write."""

from __future__ import annotations

import asyncio

from pocketcloud.api.http import HeldHead


class Recorder(asyncio.Transport):
    """A transport that keeps what is written to it (pure: no socket)."""

    def __init__(self) -> None:
        super().__init__()
        self.writes: list[bytes] = []
        self.closed = False

    def write(self, data: bytes | bytearray | memoryview) -> None:
        self.writes.append(bytes(data))

    def close(self) -> None:
        self.closed = True

    def is_closing(self) -> bool:
        return self.closed


HEAD = b"HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\n"


class TestHeldHead:
    def test_head_and_body_leave_together(self) -> None:
        """The status line and headers are written with the body, as one write."""
        wire = Recorder()
        held = HeldHead(wire)
        held.write(HEAD)
        assert wire.writes == []
        held.write(b"hello")
        assert wire.writes == [HEAD + b"hello"]

    def test_later_body_chunks_are_not_held(self) -> None:
        """Only the head waits: each further chunk is written as it comes."""
        wire = Recorder()
        held = HeldHead(wire)
        held.write(HEAD)
        held.write(b"he")
        held.write(b"llo")
        assert wire.writes == [HEAD + b"he", b"llo"]

    def test_interim_continue_is_sent_at_once(self) -> None:
        """``100 Continue`` goes out at once: the client waits for it before its body."""
        wire = Recorder()
        held = HeldHead(wire)
        held.write(b"HTTP/1.1 100 Continue\r\n\r\n")
        assert wire.writes == [b"HTTP/1.1 100 Continue\r\n\r\n"]

    def test_a_head_without_body_is_flushed(self) -> None:
        """A response with no body writes (HEAD, 204) leaves when the response ends."""
        wire = Recorder()
        held = HeldHead(wire)
        held.write(HEAD)
        held.flush()
        assert wire.writes == [HEAD]

    def test_close_sends_what_is_held_first(self) -> None:
        """Closing the connection never drops a held head."""
        wire = Recorder()
        held = HeldHead(wire)
        held.write(HEAD)
        held.close()
        assert wire.writes == [HEAD]
        assert wire.closed
        assert held.is_closing()
