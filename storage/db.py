"""Opening the SQLite file with the settings every connection needs."""

import sqlite3
from pathlib import Path

__all__ = ["connect"]


def connect(path: str | Path, *, readonly: bool = False) -> sqlite3.Connection:
    """A connection in autocommit mode: callers open transactions explicitly.

    `synchronous=FULL` makes a COMMIT durable before it returns, which is what the
    writer relies on before acknowledging anything.
    """
    if not readonly:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    conn.execute("PRAGMA busy_timeout = 10000")
    if readonly:
        conn.execute("PRAGMA query_only = ON")
    else:
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = FULL")
    conn.execute("PRAGMA foreign_keys = ON")
    return conn
