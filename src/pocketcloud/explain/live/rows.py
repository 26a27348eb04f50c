"""Small helpers over the read-only SQLite connection."""

from __future__ import annotations

import sqlite3


def scalar(db: sqlite3.Connection, sql: str, params: tuple[str | None, ...] = ()) -> str | None:
    """The first column of the first row, or None."""
    row = db.execute(sql, params).fetchone()
    return None if row is None or row[0] is None else str(row[0])


def column(db: sqlite3.Connection, sql: str, param: str) -> tuple[str, ...]:
    """The first column of every row."""
    return tuple(str(r[0]) for r in db.execute(sql, (param,)))
