"""Object bodies as files: written to tmp/, settled (fsynced, renamed into place), handed
over by commit; discard removes whatever has not been handed over (real files in a
temporary directory)."""

from __future__ import annotations

from pathlib import Path

from pocketcloud.store.blobs import Blobs


def _files(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


def test_commit_places_the_body(tmp_path: Path) -> None:
    """commit moves the written body from tmp/ to its place; its digests are the body's."""
    blobs = Blobs(tmp_path)
    writer = blobs.writer()
    writer.write(b"hello ")
    writer.write(b"world")
    blob_id = writer.commit()
    assert blobs.path(blob_id).read_bytes() == b"hello world"
    assert writer.size == 11
    assert writer.md5.hexdigest() == "5eb63bbbe01eeed093cb22bb8f5acdc3"
    assert not list((tmp_path / "tmp").iterdir())


def test_settled_then_discarded_leaves_nothing(tmp_path: Path) -> None:
    """A body settled in its place but never handed over (the request failed) is removed
    by discard."""
    blobs = Blobs(tmp_path)
    writer = blobs.writer()
    writer.write(b"x" * 10)
    writer.settle()
    assert blobs.path(writer.blob_id).exists()
    writer.discard()
    assert _files(tmp_path) == []


def test_discard_after_commit_keeps_the_body(tmp_path: Path) -> None:
    """Once committed, the body belongs to its row: discard does nothing; settle twice is
    harmless."""
    blobs = Blobs(tmp_path)
    writer = blobs.writer()
    writer.write(b"kept")
    writer.settle()
    blob_id = writer.commit()
    writer.discard()
    assert blobs.path(blob_id).read_bytes() == b"kept"


def test_discard_while_writing_removes_the_partial_file(tmp_path: Path) -> None:
    """A body still being written (the client went away) leaves no file."""
    writer = Blobs(tmp_path).writer()
    writer.write(b"part")
    writer.discard()
    assert _files(tmp_path) == []
