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

import fcntl
import os
import sqlite3
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import quote

from storage.engine.base import Conn, insert_sql, update_sql

__all__ = [
    "DIALECT",
    "SqliteConn",
    "SqliteEngine",
    "columns",
    "connect",
    "data_version",
    "is_storage_failure",
    "primary_key",
    "tables",
]


class _Dialect:
    name = "sqlite"
    int_key = "INTEGER PRIMARY KEY"  # spelled so, the column is the rowid itself

    def indexed_by(self, index: str) -> str:
        return f"INDEXED BY {index}"

    def contains_ci(self, column: str) -> str:
        return f"instr(lower({column}), lower(?)) > 0"

    def follow_ids(self, table: str, column: str) -> str:
        return ""


DIALECT = _Dialect()


class SqliteConn(sqlite3.Connection):
    """sqlite3's connection, telling queries its dialect (no cost on execute)."""

    dialect = DIALECT

    # In-process, a statement per row costs SQLite nothing extra: executemany.
    def insert_many(
        self, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]
    ) -> None:
        self.executemany(insert_sql(table, columns), rows)

    def update_many(
        self, table: str, column: str, key: str, pairs: Sequence[tuple[Any, Any]]
    ) -> None:
        self.executemany(update_sql(table, column, key), pairs)


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


def data_version(conn: Conn) -> int:
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


class SqliteEngine:
    """One SQLite file: how to open it, write to it, read it in one snapshot, copy it."""

    name = "sqlite"
    read_begin = "BEGIN"  # a read transaction: one snapshot (WAL)
    errors = (sqlite3.Error,)  # what a failing database raises

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.location = str(path)
        self._versions: dict[int, int] = {}  # connection -> data_version last seen
        self._turn: int | None = None  # the writers' lock file (begin_write)

    def connect(self, *, readonly: bool = False) -> SqliteConn:
        return connect(self.path, readonly=readonly)

    def connect_writer(self, cache_kib: int) -> SqliteConn:
        """The writer's connection. Appends land on each account's pages of the
        ledger's side indexes: with 10M entries those pages outgrow SQLite's 2 MB
        default cache and every commit would re-read them (see benchmarks/).

        Statement journals (the pages one statement changes, to undo it alone) stay in
        memory: by default they spill into a new file in /var/tmp, which strace showed
        created, written about 110 times and unlinked in every batch of 25 transfers.
        In memory one costs at most the pages a single statement changes."""
        conn = connect(self.path)
        conn.execute(f"PRAGMA cache_size = -{int(cache_kib)}")
        conn.execute("PRAGMA temp_store = MEMORY")
        return conn

    def begin_write(self, conn: Conn) -> bool:
        """Start a write transaction holding the database's write lock; True if another
        connection may have committed since this one's last (what it remembers may
        be stale: PRAGMA data_version changes with every other connection's commit).

        Server writers first queue for their turn on a lock file beside the database
        (`end_write` passes it on). Several server processes on one file would
        otherwise meet at BEGIN IMMEDIATE, where SQLite's busy handler polls with
        sleeps of up to 100 ms: the kernel's flock wakes the next writer at once."""
        if self._turn is None:
            self._turn = os.open(f"{self.path}-write.lock", os.O_RDWR | os.O_CREAT, 0o600)
        fcntl.flock(self._turn, fcntl.LOCK_EX)
        try:
            conn.execute("BEGIN IMMEDIATE")
        except BaseException:
            fcntl.flock(self._turn, fcntl.LOCK_UN)
            raise
        version = data_version(conn)
        changed = self._versions.get(id(conn)) != version
        self._versions[id(conn)] = version
        return changed

    def commit(self, conn: Conn, flush: Callable[[], None]) -> None:
        """The writer's last writes (`flush`), then COMMIT."""
        flush()
        conn.execute("COMMIT")

    def end_write(self) -> None:
        """After the COMMIT or ROLLBACK of a `begin_write`: the next writer's turn."""
        if self._turn is not None:
            fcntl.flock(self._turn, fcntl.LOCK_UN)

    def close(self) -> None:
        if self._turn is not None:
            os.close(self._turn)
            self._turn = None

    @staticmethod
    def is_storage_failure(exc: BaseException) -> bool:
        return is_storage_failure(exc)

    @staticmethod
    def lost(conn: Conn) -> bool:
        """Never: a file does not go away under its connection, and what fails on it
        (a full disk, an I/O error) a new connection would meet too."""
        return False

    def open_readonly(self) -> SqliteConn:
        """The file as it is, changing nothing: no journal-mode change, no -wal file
        written to (a backup stays byte for byte what it was)."""
        uri = f"file:{quote(str(self.path.resolve()))}?mode=ro"
        conn = sqlite3.connect(uri, uri=True, isolation_level=None, factory=SqliteConn)
        conn.execute("PRAGMA busy_timeout = 10000")  # the server may be committing
        return conn

    def exists(self) -> bool:
        return self.path.is_file()

    def tables(self, conn: Any) -> list[str]:
        return tables(conn)

    def columns(self, conn: Any, table: str) -> list[str]:
        return columns(conn, table)

    def primary_key(self, conn: Any, table: str) -> list[str]:
        return primary_key(conn, table)

    def row_order(self, conn: Any, table: str) -> str:
        """What an export orders a table's rows by: its primary key (text compares as
        bytes, SQLite's BINARY), else the rowid."""
        return ", ".join(f'"{c}"' for c in primary_key(conn, table)) or "rowid"

    def after_load(self, conn: Any) -> None:
        """After rows were inserted with their ids: nothing (rowids follow the max)."""

    @contextmanager
    def writing(self, conn: Any) -> Iterator[None]:
        """One write transaction from outside the server's writer (the CLI): WAL and
        the busy timeout let it wait its turn behind a running server."""
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")

    @contextmanager
    def reading(self, conn: Any) -> Iterator[None]:
        """One read snapshot, however long (an export while the server writes)."""
        conn.execute(self.read_begin)
        try:
            yield
        finally:
            conn.execute("COMMIT")

    def defer_foreign_keys(self, conn: Any) -> None:
        """Inside a transaction: rows may refer forward until COMMIT (an import)."""
        conn.execute("PRAGMA defer_foreign_keys = ON")

    def backup(self, target: Path, progress: Callable[[int, int], None]) -> int:
        """A consistent copy of the live file into `target` (a new file), through
        SQLite's online backup API inside one read snapshot: the server keeps writing,
        the copy never restarts. Returns the pages copied; raises if the copy fails
        its integrity check."""
        source = connect(self.path, readonly=True)
        dest = sqlite3.connect(target, isolation_level=None)
        try:
            source.execute("BEGIN")
            source.execute("SELECT count(*) FROM sqlite_master").fetchone()
            total = int(source.execute("PRAGMA page_count").fetchone()[0])
            source.backup(
                dest, pages=256, progress=lambda _s, left, pages: progress(pages - left, pages)
            )
            source.execute("COMMIT")
            check = dest.execute("PRAGMA quick_check").fetchone()[0]
            dest.execute("PRAGMA journal_mode = DELETE")  # a single self-contained file
        finally:
            dest.close()
            source.close()
        if check != "ok":
            raise sqlite3.DatabaseError(f"the copy failed its integrity check: {check}")
        return total
