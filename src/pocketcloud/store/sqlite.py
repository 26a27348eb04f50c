"""The SQLite store: one connection, WAL, one transaction per API mutation.

Touches the filesystem (the database file); nothing else below ``services`` does.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from pocketcloud.store.schema import MIGRATIONS, VERSION

log = logging.getLogger("pocketcloud.store")

Row = sqlite3.Row
Params = Sequence[Any] | dict[str, Any]

#: commits between two checkpoints of the WAL into the database file
CHECKPOINT_EVERY = 100
#: WAL frames (pages) past which a checkpoint also truncates the WAL: under a steady stream
#: of commits a PASSIVE checkpoint never catches the writer, and the WAL would only grow
TRUNCATE_FRAMES = 8000


class SchemaTooNewError(RuntimeError):
    """The database was written by a newer pocketcloud."""


class Store:
    """A SQLite database holding a cloud's desired state.

    Calls made outside ``transaction()`` run in autocommit mode; a mutation that
    spans several statements must run inside one ``transaction()`` so that it
    either lands whole or not at all.
    """

    def __init__(self, path: Path | str, durability: str = "normal") -> None:
        self.path = Path(path)
        self.path.touch(mode=0o600, exist_ok=True)
        self._db = sqlite3.connect(
            self.path, isolation_level=None, check_same_thread=False, timeout=30
        )
        self._db.row_factory = sqlite3.Row
        self._lock = threading.RLock()
        self._depth = 0
        self._db.execute("PRAGMA journal_mode=WAL")
        # WAL + NORMAL: a committed transaction survives the process dying; FULL also
        # survives the machine dying, at the price of an fsync per commit.
        self._db.execute(f"PRAGMA synchronous={'FULL' if durability == 'full' else 'NORMAL'}")
        self._db.execute("PRAGMA foreign_keys=ON")
        # checkpoints (which fsync) run on a thread of their own, not inside a commit
        self._db.execute("PRAGMA wal_autocheckpoint=0")
        self._checkpointer = _Checkpointer(self.path)
        self._commits = 0
        self._migrate()

    def _migrate(self) -> None:
        current = int(self._db.execute("PRAGMA user_version").fetchone()[0])
        if current > VERSION:
            raise SchemaTooNewError(
                f"database schema {current} is newer than this pocketcloud ({VERSION})"
            )
        for number in range(current, VERSION):
            with self.transaction():
                for statement in _statements(MIGRATIONS[number]):
                    self._db.execute(statement)
                self._db.execute(f"PRAGMA user_version={number + 1}")

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Run the block as one transaction (nested calls join the outer one)."""
        with self._lock:
            if self._depth:
                self._depth += 1
                try:
                    yield
                finally:
                    self._depth -= 1
                return
            self._db.execute("BEGIN IMMEDIATE")
            self._depth = 1
            try:
                yield
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            else:
                self._db.execute("COMMIT")
                self._committed()
            finally:
                self._depth = 0

    def _committed(self) -> None:
        self._commits += 1
        if self._commits % CHECKPOINT_EVERY == 0:
            self._checkpointer.request()

    def execute(self, sql: str, params: Params = ()) -> int:
        """Run one statement; returns the number of rows it changed."""
        with self._lock:
            changed = self._db.execute(sql, params).rowcount
            if not self._depth:  # autocommit: a commit of its own
                self._committed()
            return changed

    def executemany(self, sql: str, rows: Sequence[Params]) -> None:
        """Run one statement for each parameter row."""
        with self._lock:
            self._db.executemany(sql, rows)
            if not self._depth:
                self._committed()

    def all(self, sql: str, params: Params = ()) -> list[Row]:
        """Every row of a query."""
        with self._lock:
            return self._db.execute(sql, params).fetchall()

    def one(self, sql: str, params: Params = ()) -> Row | None:
        """The first row of a query, or None."""
        with self._lock:
            row: Row | None = self._db.execute(sql, params).fetchone()
            return row

    def scalar(self, sql: str, params: Params = ()) -> Any:
        """The first column of the first row, or None."""
        row = self.one(sql, params)
        return None if row is None else row[0]

    def get_meta(self, key: str) -> str | None:
        """A value from the meta table."""
        value = self.scalar("SELECT value FROM meta WHERE key = ?", (key,))
        return None if value is None else str(value)

    def set_meta(self, key: str, value: str) -> None:
        """Store a value in the meta table."""
        self.execute(
            "INSERT INTO meta(key, value) VALUES(?, ?) "
            "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            (key, value),
        )

    def close(self) -> None:
        """Close the connection (checkpoints the WAL)."""
        self._checkpointer.close()
        with self._lock:
            self._db.close()


class _Checkpointer:
    """Copies the WAL into the database file on a thread and connection of its own.

    SQLite's automatic checkpoint runs inside the COMMIT that crosses its threshold,
    so one API call in a hundred paid for the copy and its fsync (milliseconds). A
    PASSIVE checkpoint never blocks the writer; sqlite3 releases the GIL while it works.
    Only when the WAL has grown past ``TRUNCATE_FRAMES`` (the writer never paused long
    enough for a passive one to finish) does a TRUNCATE checkpoint hold the writer back
    for the little that is left, so that the WAL starts over.
    The thread starts on the first request; side effect: writes the database file.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._wanted = threading.Event()
        self._closed = False
        self._thread: threading.Thread | None = None
        self._guard = threading.Lock()

    def request(self) -> None:
        """Ask for a checkpoint soon."""
        with self._guard:
            if self._closed:
                return
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="sqlite-checkpoint", daemon=True
                )
                self._thread.start()
        self._wanted.set()

    def close(self) -> None:
        """Stop the thread (a last checkpoint happens when the store's connection closes)."""
        with self._guard:
            self._closed = True
            thread = self._thread
        self._wanted.set()
        if thread is not None:
            thread.join(timeout=30)

    def _run(self) -> None:
        db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False, timeout=30)
        try:
            while True:
                self._wanted.wait()
                self._wanted.clear()
                if self._closed:
                    return
                try:
                    _, frames, _ = db.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
                    if frames > TRUNCATE_FRAMES:
                        db.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
                except sqlite3.Error:  # tried again at the next request
                    log.exception("checkpoint of %s failed", self.path)
        finally:
            db.close()


def _statements(script: str) -> list[str]:
    """Split a migration script into statements (our scripts hold no ';' in strings)."""
    return [part.strip() for part in script.split(";") if part.strip()]
