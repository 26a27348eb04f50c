"""The SQLite store: one connection, WAL, one transaction per API mutation.

Touches the filesystem (the database file); nothing else below ``services`` does.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from pocketcloud.store.schema import MIGRATIONS, VERSION

Row = sqlite3.Row
Params = Sequence[Any] | dict[str, Any]


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
            finally:
                self._depth = 0

    def execute(self, sql: str, params: Params = ()) -> int:
        """Run one statement; returns the number of rows it changed."""
        with self._lock:
            return self._db.execute(sql, params).rowcount

    def executemany(self, sql: str, rows: Sequence[Params]) -> None:
        """Run one statement for each parameter row."""
        with self._lock:
            self._db.executemany(sql, rows)

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
        with self._lock:
            self._db.close()


def _statements(script: str) -> list[str]:
    """Split a migration script into statements (our scripts hold no ';' in strings)."""
    return [part.strip() for part in script.split(";") if part.strip()]
