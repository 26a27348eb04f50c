"""``aws-chunked`` request bodies, decoded as they stream in (pure: bytes in, bytes out).

A body whose ``x-amz-content-sha256`` is ``STREAMING-…`` arrives in chunks::

    <hex size>[;chunk-signature=<sig>]\\r\\n<data>\\r\\n … 0[;chunk-signature=<sig>]\\r\\n
    [<trailer>: <value>\\r\\n …]\\r\\n

* ``STREAMING-AWS4-HMAC-SHA256-PAYLOAD`` (-``TRAILER``): each chunk is signed, chained
  from the request's own signature (the seed)::

      AWS4-HMAC-SHA256-PAYLOAD \\n <timestamp> \\n <scope> \\n <previous signature> \\n
      <SHA-256 of ""> \\n <SHA-256 of the chunk's data>

  and a trailer, when there is one, by ``AWS4-HMAC-SHA256-TRAILER`` over its lines;
* ``STREAMING-UNSIGNED-PAYLOAD-TRAILER``: chunks unsigned, a checksum in the trailer
  (what boto3 sends over HTTPS).

``Dechunker.feed`` takes bytes as they come and returns the data decoded so far;
``finish`` checks that the body ended where it should. Errors are S3's
(``SignatureDoesNotMatch``, ``IncompleteBody``, ``InvalidChunkSizeError``).
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass, field

from pocketcloud.errors import ClientError

SIGNED = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"
SIGNED_TRAILER = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER"
UNSIGNED_TRAILER = "STREAMING-UNSIGNED-PAYLOAD-TRAILER"
MODES = frozenset({SIGNED, SIGNED_TRAILER, UNSIGNED_TRAILER})
EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()
#: a chunk's header line is short; anything longer is not aws-chunked
MAX_LINE = 4096
#: S3's smallest chunk, but the last (signed chunks)
MIN_CHUNK = 8 * 1024


@dataclass
class Signing:
    """What chains the chunk signatures: the day's signing key, the request's timestamp
    and scope, and its signature (the seed)."""

    key: bytes
    timestamp: str
    scope: str
    seed: str


def _mismatch() -> ClientError:
    return ClientError(
        "SignatureDoesNotMatch",
        "The request signature we calculated does not match the signature you provided.",
        status=403,
    )


def _incomplete() -> ClientError:
    return ClientError(
        "IncompleteBody", "The request body terminated unexpectedly or was not aws-chunked."
    )


@dataclass
class Dechunker:
    """One aws-chunked body being decoded (``signing`` for the signed modes)."""

    mode: str
    signing: Signing | None = None
    trailers: dict[str, str] = field(default_factory=dict)
    _buffer: bytearray = field(default_factory=bytearray)
    _left: int = -1  # bytes of the current chunk's data still to come; -1: a header next
    _chunk: bytearray = field(default_factory=bytearray)
    _signature: str = ""
    _previous: str = ""
    _sizes: list[int] = field(default_factory=list)
    _state: str = "header"  # header → data → crlf → header … → trailer → done

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise ClientError(
                "InvalidArgument", f"x-amz-content-sha256 {self.mode[:64]} is not valid"
            )
        if self.mode != UNSIGNED_TRAILER and self.signing is None:
            raise ValueError("signed aws-chunked needs the request's signing")
        self._previous = self.signing.seed if self.signing else ""

    def feed(self, data: bytes) -> bytes:
        """The body's data that these bytes complete (may be b"")."""
        self._buffer += data
        out = bytearray()
        while self._step(out):
            pass
        return bytes(out)

    def finish(self) -> None:
        """The body ended: it must have ended with its last chunk (and trailer)."""
        if self._state != "done" or self._buffer:
            raise _incomplete()

    def _step(self, out: bytearray) -> bool:
        if self._state == "header":
            return self._header()
        if self._state == "data":
            return self._data(out)
        if self._state == "crlf":
            return self._crlf()
        if self._state == "trailer":
            return self._trailer()
        if self._buffer:  # bytes after the end
            raise _incomplete()
        return False

    def _line(self) -> str | None:
        end = self._buffer.find(b"\r\n")
        if end < 0:
            if len(self._buffer) > MAX_LINE:
                raise _incomplete()
            return None
        line = bytes(self._buffer[:end]).decode("latin-1")
        del self._buffer[: end + 2]
        return line

    def _header(self) -> bool:
        line = self._line()
        if line is None:
            return False
        size_text, _, extension = line.partition(";")
        try:
            size = int(size_text, 16)
        except ValueError:
            raise _incomplete() from None
        name, _, value = extension.partition("=")
        if self.signing is not None:
            if name.strip() != "chunk-signature" or not value:
                raise _mismatch()
            self._signature = value.strip()
        self._left, self._sizes = size, [*self._sizes, size]
        self._chunk.clear()
        if size:
            self._state = "data"
        else:  # the last chunk: its signature, then trailers (if any) up to an empty line
            self._check_chunk()
            self._state = "trailer"
        return True

    def _trailing(self) -> bool:
        return self.mode in (SIGNED_TRAILER, UNSIGNED_TRAILER)

    def _data(self, out: bytearray) -> bool:
        if not self._buffer:
            return False
        piece = bytes(self._buffer[: self._left])
        del self._buffer[: len(piece)]
        self._left -= len(piece)
        out += piece
        if self.signing is not None:
            self._chunk += piece
        if self._left == 0:
            self._check_chunk()
            self._state = "crlf"
        return True

    def _crlf(self) -> bool:
        if len(self._buffer) < 2:
            return False
        if self._buffer[:2] != b"\r\n":
            raise _incomplete()
        del self._buffer[:2]
        self._state = "header"
        return True

    def _trailer(self) -> bool:
        line = self._line()
        if line is None:
            return False
        if line == "":
            self._check_trailer()
            self._state = "done"
            return True
        name, sep, value = line.partition(":")
        if not sep or not self._trailing():
            raise _incomplete()
        self.trailers[name.strip().lower()] = value.strip()
        return True

    def _check_chunk(self) -> None:
        if self.signing is None:
            return
        if len(self._sizes) > 1 and self._sizes[-2] < MIN_CHUNK and self._sizes[-1] > 0:
            raise ClientError(
                "InvalidChunkSizeError",
                "Only the last chunk is allowed to have a size less than 8192 bytes",
            )
        expected = _sign(self.signing, "AWS4-HMAC-SHA256-PAYLOAD", self._previous,
                         f"{EMPTY_SHA256}\n{hashlib.sha256(self._chunk).hexdigest()}")  # fmt: skip
        if not hmac.compare_digest(expected, self._signature):
            raise _mismatch()
        self._previous = expected

    def _check_trailer(self) -> None:
        if self.mode != SIGNED_TRAILER or self.signing is None:
            return
        claimed = self.trailers.pop("x-amz-trailer-signature", "")
        lines = "".join(f"{name}:{value}\n" for name, value in self.trailers.items())
        expected = _sign(self.signing, "AWS4-HMAC-SHA256-TRAILER", self._previous,
                         hashlib.sha256(lines.encode("latin-1")).hexdigest())  # fmt: skip
        if not hmac.compare_digest(expected, claimed):
            raise _mismatch()


def _sign(signing: Signing, algorithm: str, previous: str, rest: str) -> str:
    text = f"{algorithm}\n{signing.timestamp}\n{signing.scope}\n{previous}\n{rest}"
    return hmac.new(signing.key, text.encode(), hashlib.sha256).hexdigest()
