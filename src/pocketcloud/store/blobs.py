"""Object bodies as files under ``<state>/s3``: never a whole body in memory.

A body is written to ``tmp/<random>`` while it streams in (its size, MD5 and SHA-256
counted on the way), then fsynced and renamed to ``blobs/<id[:2]>/<id>``; only after the
rename does the caller commit the row that names the blob, in one transaction. A kill at
any point leaves either a file under ``tmp/`` or a blob no row names: ``leftovers`` finds
both, and nothing partial is ever visible. Touches the filesystem only.
"""

from __future__ import annotations

import hashlib
import os
import secrets
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, BinaryIO

CHUNK = 256 * 1024


class BlobWriter:
    """One body being written: ``write`` chunks, then ``commit`` or ``discard``."""

    def __init__(self, blobs: Blobs) -> None:
        self._blobs = blobs
        self.blob_id = secrets.token_hex(16)
        self.temp = blobs.root / "tmp" / self.blob_id
        self._file: BinaryIO = open(self.temp, "xb")  # noqa: SIM115 (closed by commit/discard)
        self.size = 0
        self.md5 = hashlib.md5(usedforsecurity=False)
        self.sha256 = hashlib.sha256()
        #: fsynced and renamed into place; handed to a caller that names it in a row
        self.placed = False
        self.committed = False
        #: more digests to keep while the body streams (``update(bytes)`` objects)
        self.hashers: dict[str, Any] = {}
        #: what the caller verified of them, to keep with the body (header name → value)
        self.checksums: dict[str, str] = {}

    def write(self, chunk: bytes) -> None:
        """Append a chunk (side effect: writes the temporary file)."""
        self._file.write(chunk)
        self.size += len(chunk)
        self.md5.update(chunk)
        self.sha256.update(chunk)
        for hasher in self.hashers.values():
            hasher.update(chunk)

    def settle(self) -> None:
        """fsync the body, move it to its place and fsync the folder (the slow part of
        ``commit``; the S3 edge runs it on a worker thread so the event loop keeps
        serving). Until ``commit`` hands it over, ``discard`` still removes it."""
        if self.placed:
            return
        self._file.flush()
        os.fsync(self._file.fileno())
        self._file.close()
        final = self._blobs.path(self.blob_id)
        final.parent.mkdir(exist_ok=True)
        os.rename(self.temp, final)
        _fsync_dir(final.parent)
        self.placed = True

    def commit(self) -> str:
        """The body, settled in its place and handed to the caller, whose row will name it
        (or who removes it): the blob's id."""
        self.settle()
        self.committed = True
        return self.blob_id

    def discard(self) -> None:
        """Drop the body unless committed (side effect: removes its file)."""
        if self.committed:
            return
        if self.placed:
            self._blobs.path(self.blob_id).unlink(missing_ok=True)
            return
        self._file.close()
        self.temp.unlink(missing_ok=True)


class Blobs:
    """The object bodies of one cloud."""

    def __init__(self, root: Path) -> None:
        self.root = root
        for sub in ("tmp", "blobs"):
            (root / sub).mkdir(parents=True, exist_ok=True, mode=0o700)

    def writer(self) -> BlobWriter:
        """A new body to write."""
        return BlobWriter(self)

    def path(self, blob_id: str) -> Path:
        """Where a committed body lives."""
        if not blob_id.isalnum():
            raise ValueError(f"not a blob id: {blob_id!r}")
        return self.root / "blobs" / blob_id[:2] / blob_id

    def read(self, blob_id: str, start: int = 0, end: int | None = None) -> Iterator[bytes]:
        """The bytes ``start`` to ``end`` (exclusive; None: to the end) in chunks. The file
        is opened now, so a body removed while it is being sent is still sent whole."""
        body = open(self.path(blob_id), "rb")  # noqa: SIM115 (closed by _chunks)
        body.seek(start)
        return _chunks(body, None if end is None else end - start)

    def copy(self, blob_id: str) -> BlobWriter:
        """A new body with the bytes of a committed one (to commit)."""
        writer = self.writer()
        try:
            for chunk in self.read(blob_id):
                writer.write(chunk)
        except BaseException:
            writer.discard()
            raise
        return writer

    def join(self, blob_ids: Iterable[str]) -> tuple[str, int]:
        """A new committed body: the bodies named, one after another (the kernel copies;
        nothing passes through memory). Its id and size."""
        blob_id = secrets.token_hex(16)
        temp = self.root / "tmp" / blob_id
        size = 0
        try:
            with open(temp, "xb") as out:
                for part in blob_ids:
                    size += _copy_into(self.path(part), out)
                out.flush()
                os.fsync(out.fileno())
            final = self.path(blob_id)
            final.parent.mkdir(exist_ok=True)
            os.rename(temp, final)
            _fsync_dir(final.parent)
        except BaseException:
            temp.unlink(missing_ok=True)
            raise
        return blob_id, size

    def remove(self, blob_ids: Iterable[str]) -> None:
        """Delete committed bodies (after the rows naming them are gone)."""
        for blob_id in blob_ids:
            self.path(blob_id).unlink(missing_ok=True)

    def leftovers(self, named: set[str]) -> list[Path]:
        """Temporary files, and bodies no row names (``named``): what a kill left behind."""
        found = list((self.root / "tmp").iterdir())
        for folder in (self.root / "blobs").iterdir():
            found += [blob for blob in folder.iterdir() if blob.name not in named]
        return found


def _chunks(body: BinaryIO, left: int | None) -> Iterator[bytes]:
    with body:
        while left is None or left > 0:
            chunk = body.read(CHUNK if left is None else min(CHUNK, left))
            if not chunk:
                return
            if left is not None:
                left -= len(chunk)
            yield chunk


def _copy_into(source: Path, out: BinaryIO) -> int:
    with open(source, "rb") as part:
        left = os.fstat(part.fileno()).st_size
        total = left
        while left:
            copied = os.copy_file_range(part.fileno(), out.fileno(), left)
            if copied == 0:
                raise OSError(f"{source} ended early")
            left -= copied
    return total


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
