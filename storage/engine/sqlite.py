"""SQLite, the embedded default: every SQLite-specific thing the server relies on.

- Connections: WAL, `synchronous=FULL` (a COMMIT is durable before it returns, which
  the writer relies on before acknowledging anything), foreign keys, a busy timeout;
  readers are `query_only`.
- The dialect fragments queries ask for (`INDEXED BY`, `instr`).
- What counts as "the file cannot take this write" (the writer's 503s).
- `data_version`: whether another connection committed since we last looked.
- Table introspection for export/import (sqlite_master, PRAGMA table_info).
The migrations in storage/engine/sql/sqlite/ hold the schema's SQLite-only parts
(triggers, WITHOUT ROWID).
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

__all__ = [
    "DIALECT",
    "SqliteConn",
    "columns",
    "connect",
    "data_version",
    "is_storage_failure",
    "primary_key",
    "tables",
]


class _Dialect:
    name = "sqlite"

    def indexed_by(self, index: str) -> str:
        return f"INDEXED BY {index}"

    def contains_ci(self, column: str) -> str:
        return f"instr(lower({column}), lower(?)) > 0"


DIALECT = _Dialect()


class SqliteConn(sqlite3.Connection):
    """sqlite3's connection, telling queries its dialect (no cost on execute)."""

    dialect = DIALECT


def connect(path: str | Path, *, readonly: bool = False) -> SqliteConn:
    """A connection in autocommit mode: callers open transactions explicitly."""
    if not readonly:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False, factory=SqliteConn)
    conn.execute("PRAGMA busy_timeout = 10000")
    if readonly:
        conn.execute("PRAGMA query_only = ON")
    else:
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = FULL")
    conn.execute("PRAGMA foreign_keys = ON")
    return conn


# Errors that mean "the file cannot take this write", as opposed to a constraint a
# task tripped over (which only fails that task).
_STORAGE_CODES = (
    "SQLITE_FULL",
    "SQLITE_IOERR",
    "SQLITE_READONLY",
    "SQLITE_CANTOPEN",
    "SQLITE_CORRUPT",
    "SQLITE_NOTADB",
    "SQLITE_BUSY",
    "SQLITE_LOCKED",
    "SQLITE_PERM",
    "SQLITE_PROTOCOL",
)


def is_storage_failure(exc: BaseException) -> bool:
    if not isinstance(exc, sqlite3.Error):
        return False
    name = getattr(exc, "sqlite_errorname", "") or ""
    return name.startswith(_STORAGE_CODES)


def data_version(conn: sqlite3.Connection) -> int:
    """Changes when another connection commits to the file (inside a transaction:
    as of its snapshot)."""
    return int(conn.execute("PRAGMA data_version").fetchone()[0])


def tables(conn: sqlite3.Connection) -> list[str]:
    rows = conn.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
        " ORDER BY name"
    )
    return [r[0] for r in rows]


def columns(conn: sqlite3.Connection, table: str) -> list[str]:
    return [r[1] for r in conn.execute(f'PRAGMA table_info("{table}")')]


def primary_key(conn: sqlite3.Connection, table: str) -> list[str]:
    """A table's primary key columns, in key order (empty: it orders by rowid)."""
    keys = sorted((r[5], r[1]) for r in conn.execute(f'PRAGMA table_info("{table}")') if r[5])
    return [name for _, name in keys]
