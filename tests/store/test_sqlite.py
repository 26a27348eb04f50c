"""The SQLite store: checkpoints of its write-ahead log happen beside commits, not in them."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

from pocketcloud.store import sqlite as store_sqlite
from pocketcloud.store.sqlite import Store

FRAME = 4096 + 24  # a WAL frame: one page and its header


def _wal_frames(path: Path) -> int:
    wal = path.with_name(path.name + "-wal")
    return wal.stat().st_size // FRAME if wal.exists() else 0


class TestCheckpoints:
    def test_a_commit_never_checkpoints_on_its_own(self, tmp_path: Path) -> None:
        """The store's connection has SQLite's automatic checkpoint off."""
        store = Store(tmp_path / "db")
        try:
            assert store.scalar("PRAGMA wal_autocheckpoint") == 0
        finally:
            store.close()

    def test_the_wal_starts_over_after_a_stream_of_commits(self, tmp_path: Path) -> None:
        """Commits with no pause between them never let a passive checkpoint finish; the
        background checkpoint then truncates the WAL, so it does not hold every page ever
        written (the stream below writes thousands)."""
        path = tmp_path / "db"
        store = Store(path)
        store.execute("CREATE TABLE t(id INTEGER PRIMARY KEY, body TEXT)")
        store.execute("CREATE INDEX t_body ON t(body)")
        limit = 400
        original = store_sqlite.TRUNCATE_FRAMES
        store_sqlite.TRUNCATE_FRAMES = limit
        try:
            for number in range(3 * store_sqlite.CHECKPOINT_EVERY * 10):
                with store.transaction():
                    store.execute("INSERT INTO t(body) VALUES(?)", (f"{number:08d}" * 50,))
            written = store.scalar("SELECT count(*) FROM t")
            deadline = time.monotonic() + 30  # the last checkpoint runs on its own thread
            while _wal_frames(path) > limit and time.monotonic() < deadline:
                time.sleep(0.05)
            assert written == 3000
            assert _wal_frames(path) <= limit
        finally:
            store_sqlite.TRUNCATE_FRAMES = original
            store.close()

    def test_what_was_committed_is_in_the_database_file_after_close(self, tmp_path: Path) -> None:
        """Closing checkpoints the rest: a fresh connection sees every row, and no WAL is left."""
        path = tmp_path / "db"
        store = Store(path)
        store.execute("CREATE TABLE t(id INTEGER PRIMARY KEY)")
        for _ in range(250):
            with store.transaction():
                store.execute("INSERT INTO t DEFAULT VALUES")
        time.sleep(0.1)  # let a background checkpoint run meanwhile
        store.close()
        assert not path.with_name(path.name + "-wal").exists()
        db = sqlite3.connect(path)
        try:
            assert db.execute("SELECT count(*) FROM t").fetchone()[0] == 250
        finally:
            db.close()

    def test_statements_outside_a_transaction_count_as_commits(self, tmp_path: Path) -> None:
        """Writes in autocommit mode are commits too: a stream of them is checkpointed and
        truncated like a stream of transactions."""
        path = tmp_path / "db"
        store = Store(path)
        store.execute("CREATE TABLE t(id INTEGER PRIMARY KEY, body TEXT)")
        limit = 400
        original = store_sqlite.TRUNCATE_FRAMES
        store_sqlite.TRUNCATE_FRAMES = limit
        try:
            for number in range(3000):
                store.execute("INSERT INTO t(body) VALUES(?)", (f"{number:08d}" * 50,))
            deadline = time.monotonic() + 30
            while _wal_frames(path) > limit and time.monotonic() < deadline:
                time.sleep(0.05)
            assert _wal_frames(path) <= limit
        finally:
            store_sqlite.TRUNCATE_FRAMES = original
            store.close()
